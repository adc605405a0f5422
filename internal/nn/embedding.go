package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Embedding looks up the rows of table [V, D] named by ids, an int vector of
// length N (a node of dtype tensor.Int), giving [N, D]. Its gradient with
// respect to the table is a dense [V, D] tensor that is zero except in the
// rows looked up (repeated ids add up, tied uses accumulate, as in
// PyTorch); ids get no gradient. An id outside [0, V) is an error when the
// graph runs.
func Embedding(table, ids *G.Node, opts ...Option) (*G.Node, error) {
	ts := table.Shape()
	if len(ts) != 2 {
		return nil, fmt.Errorf("nn: Embedding needs a [vocab, dim] table, got %v", ts)
	}
	if ids.Dtype() != tensor.Int || ids.Dims() != 1 {
		return nil, fmt.Errorf("nn: Embedding needs an int vector of ids, got %v %v", ids.Dtype(), ids.Shape())
	}
	o, err := newOp("Embedding", table.Dtype(), tensor.Shape{ids.Shape()[0], ts[1]},
		embeddingKernel[float32], embeddingKernel[float64], table, ids)
	if err != nil {
		return nil, err
	}
	o.dev = dev(devEmbedding)
	o.back = firstGrad("EmbeddingGrad", scatterKernel[float32], scatterKernel[float64], o.dev.back(1))
	return applyWith(o, opts, table, ids)
}

func embeddingKernel[T float](in []*tensor.Dense, out *tensor.Dense) error {
	return kernel.Gather(data[T](out), data[T](in[0]), in[1].Data().([]int), in[0].Shape()[1])
}

// scatterKernel computes the table gradient from inputs table, ids, dy.
func scatterKernel[T float](in []*tensor.Dense, out *tensor.Dense) error {
	dw := data[T](out)
	clear(dw)
	kernel.ScatterAdd(dw, data[T](in[2]), in[1].Data().([]int), out.Shape()[1])
	return nil
}

// CrossEntropy is torch's CrossEntropyLoss(ignore_index=-100,
// reduction="mean") of logits [N, V] against int labels [N]: the mean of
// −log_softmax(logits)[label] over the rows whose label is not
// kernel.IgnoreIndex (NaN when there are none), a scalar. A label outside
// [0, V) is an error when the graph runs. labels get no gradient.
func CrossEntropy(logits, labels *G.Node, opts ...Option) (*G.Node, error) {
	ls := logits.Shape()
	if len(ls) != 2 || labels.Dtype() != tensor.Int || labels.Dims() != 1 || labels.Shape()[0] != ls[0] {
		return nil, fmt.Errorf("nn: CrossEntropy needs [N, V] logits and N int labels, got %v and %v %v", ls, labels.Dtype(), labels.Shape())
	}
	o, err := newOp("CrossEntropy", logits.Dtype(), tensor.ScalarShape(), xentKernel[float32], xentKernel[float64], logits, labels)
	if err != nil {
		return nil, err
	}
	o.dev = dev(devCrossEntropy)
	o.back = firstGrad("CrossEntropyGrad", xentGrad[float32], xentGrad[float64], o.dev.back(1))
	return applyWith(o, opts, logits, labels)
}

func xentKernel[T float](in []*tensor.Dense, out *tensor.Dense) error {
	loss, err := kernel.CrossEntropy(data[T](in[0]), in[1].Data().([]int), in[0].Shape()[1])
	if err != nil {
		return err
	}
	data[T](out)[0] = T(loss)
	return nil
}

func xentGrad[T float](in []*tensor.Dense, out *tensor.Dense) error {
	kernel.CrossEntropyBackward(data[T](out), data[T](in[0]), in[1].Data().([]int), in[0].Shape()[1], float64(scalar[T](in[2])))
	return nil
}

// scalar returns the value of a one-element tensor.
func scalar[T float](d *tensor.Dense) T {
	if v, ok := d.Data().(T); ok {
		return v
	}
	return data[T](d)[0]
}
