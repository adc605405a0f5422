package nn

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Embedding looks up the rows of table [V, D] named by ids, an int vector of
// length N (a node of dtype tensor.Int), giving [N, D]. Its gradient with
// respect to the table is a dense [V, D] tensor that is zero except in the
// rows looked up (repeated ids add up); ids get no gradient. An id outside
// [0, V) is an error when the graph runs.
func Embedding(table, ids *G.Node) (*G.Node, error) {
	ts := table.Shape()
	if len(ts) != 2 {
		return nil, fmt.Errorf("nn: Embedding needs a [vocab, dim] table, got %v", ts)
	}
	if ids.Dtype() != tensor.Int || ids.Dims() != 1 {
		return nil, fmt.Errorf("nn: Embedding needs an int vector of ids, got %v %v", ids.Dtype(), ids.Shape())
	}
	fwd, err := pick(table.Dtype(), embeddingForward[float32], embeddingForward[float64])
	if err != nil {
		return nil, err
	}
	o := &op{name: "Embedding", in: []hm.Type{tensorType(2), intType(1)}, shape: tensor.Shape{ids.Shape()[0], ts[1]},
		dtype: table.Dtype(), fwd: fwd, diff: []bool{true, false}, back: embeddingBack}
	return apply(o, table, ids)
}

func embeddingBack(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	table, ids := in[0], in[1]
	fwd, err := pick(table.Dtype(), embeddingGrad[float32], embeddingGrad[float64])
	if err != nil {
		return nil, err
	}
	o := &op{name: "EmbeddingGrad", in: []hm.Type{intType(1), tensorType(2)}, shape: shapeOf(table),
		dtype: table.Dtype(), fwd: fwd}
	d, err := apply(o, ids, grad)
	return G.Nodes{d, nil}, err
}

func embeddingForward[T float](in []*tensor.Dense, out *tensor.Dense) error {
	w, ids, y := data[T](in[0]), in[1].Data().([]int), data[T](out)
	v, d := in[0].Shape()[0], in[0].Shape()[1]
	for i, id := range ids {
		if id < 0 || id >= v {
			return fmt.Errorf("id %d at position %d is outside the vocabulary [0, %d)", id, i, v)
		}
		copy(y[i*d:(i+1)*d], w[id*d:(id+1)*d])
	}
	return nil
}

func embeddingGrad[T float](in []*tensor.Dense, out *tensor.Dense) error {
	ids, g, dw := in[0].Data().([]int), data[T](in[1]), data[T](out)
	d := out.Shape()[1]
	for i := range dw {
		dw[i] = 0
	}
	for i, id := range ids {
		dst, src := dw[id*d:(id+1)*d], g[i*d:(i+1)*d]
		for j, v := range src {
			dst[j] += v
		}
	}
	return nil
}
