package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PositionBias adds T5's attention bias [B·H, S, T]: the relative position
// bias table [buckets, H] (relative_attention_bias.weight) looked up by the
// bucket of every (query, key) pair, buckets an int vector [S·T], plus the
// additive mask [B, S, T] (see kernel.PositionBias). The table gets the
// gradient; buckets and mask get none.
func PositionBias(table, buckets, mask *G.Node, opts ...Option) (*G.Node, error) {
	ts, ms := table.Shape(), mask.Shape()
	if len(ts) != 2 || len(ms) != 3 || buckets.Dtype() != tensor.Int || buckets.Shape().TotalSize() != ms[1]*ms[2] {
		return nil, fmt.Errorf("nn: PositionBias needs a [buckets, heads] table, [S·T] int buckets and a [B, S, T] mask, got %v, %v, %v", ts, buckets.Shape(), ms)
	}
	b, h := ms[0], ts[1]
	o, err := newOp(fmt.Sprintf("PositionBias{%d,%d}", b, h), table.Dtype(), tensor.Shape{b * h, ms[1], ms[2]},
		biasKernel[float32](b, h), biasKernel[float64](b, h), table, buckets, mask)
	if err != nil {
		return nil, err
	}
	o.diff[2] = false
	o.dev = twin{kind: devPositionBias, heads: h}
	o.back = firstGrad(fmt.Sprintf("PositionBiasGrad{%d,%d}", b, h), biasGrad[float32](b, h), biasGrad[float64](b, h), o.dev.back(1))
	return applyWith(o, opts, table, buckets, mask)
}

func biasKernel[T float](b, h int) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		kernel.PositionBias(data[T](out), data[T](in[0]), in[1].Data().([]int), data[T](in[2]), b, h)
		return nil
	}
}

func biasGrad[T float](b, h int) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		kernel.PositionBiasBackward(data[T](out), data[T](in[3]), in[1].Data().([]int), b, h)
		return nil
	}
}
