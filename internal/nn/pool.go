package nn

import (
	"fmt"
	"github.com/genq-go/genq/internal/kernel"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PoolMode is how Pool reduces the token embeddings of a sequence.
type PoolMode int

// The pooling modes of sentence-transformers' Pooling module.
const (
	PoolMean        PoolMode = iota // Σ mask·x / max(Σ mask, 1e-9)
	PoolCLS                         // the first token's embedding
	PoolMax                         // max over the tokens with mask 1 (others count as -1e9)
	PoolMeanSqrtLen                 // Σ mask·x / sqrt(max(Σ mask, 1e-9))
)

func (m PoolMode) String() string {
	switch m {
	case PoolMean:
		return "mean"
	case PoolCLS:
		return "cls"
	case PoolMax:
		return "max"
	case PoolMeanSqrtLen:
		return "mean_sqrt_len"
	}
	return fmt.Sprintf("PoolMode(%d)", int(m))
}

// Pool reduces token embeddings x [B·T, D] (or [B, T, D]) to one vector per
// sequence [B, D], using the 0/1 float mask [B, T] (1 = real token), as
// sentence-transformers' Pooling does. mask gets no gradient.
func Pool(x, mask *G.Node, mode PoolMode) (*G.Node, error) {
	ms := mask.Shape()
	n, d := rows(x.Shape())
	if len(ms) != 2 || ms[0]*ms[1] != n {
		return nil, fmt.Errorf("nn: Pool over %v needs a [batch, seq] mask covering every row, got %v", x.Shape(), ms)
	}
	if mode < PoolMean || mode > PoolMeanSqrtLen {
		return nil, fmt.Errorf("nn: unknown pooling mode %v", mode)
	}
	o, err := newOp("Pool{"+mode.String()+"}", x.Dtype(), tensor.Shape{ms[0], d}, poolForward[float32](mode), poolForward[float64](mode), x, mask)
	if err != nil {
		return nil, err
	}
	o.diff[1] = false
	o.dev = twin{kind: devPool, mode: mode}
	o.back = firstGrad("PoolGrad{"+mode.String()+"}", poolGrad[float32](mode), poolGrad[float64](mode), o.dev.back(1))
	return apply(o, x, mask)
}

// poolSizes returns batch, sequence length and dim of a pooling.
func poolSizes(mask, out *tensor.Dense) (b, t, d int) {
	return mask.Shape()[0], mask.Shape()[1], out.Shape()[len(out.Shape())-1]
}

// divisor is what sentence-transformers divides the masked sum by.
func divisor[T float](m []T, mode PoolMode) float64 {
	var c float64
	for _, v := range m {
		c += float64(v)
	}
	c = math.Max(c, 1e-9)
	if mode == PoolMeanSqrtLen {
		return math.Sqrt(c)
	}
	return c
}

// maxMasked is the value sentence-transformers gives padded tokens before max pooling.
const maxMasked = -1e9

// argmax returns, per dim, the token of sequence b that max pooling picks.
func argmax[T float](x, m []T, b, t, d int, idx []int) {
	best := make([]float64, d)
	for j := range best {
		best[j] = math.Inf(-1)
	}
	for i := 0; i < t; i++ {
		row := x[(b*t+i)*d : (b*t+i+1)*d]
		for j, v := range row {
			f := float64(v)
			if m[b*t+i] == 0 {
				f = maxMasked
			}
			if f > best[j] {
				best[j], idx[j] = f, i
			}
		}
	}
}

func poolForward[T float](mode PoolMode) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, m, y := data[T](in[0]), data[T](in[1]), data[T](out)
		b, t, d := poolSizes(in[1], out)
		idx := make([]int, d)
		for s := 0; s < b; s++ {
			dst, ms := y[s*d:(s+1)*d], m[s*t:(s+1)*t]
			switch mode {
			case PoolCLS:
				copy(dst, x[s*t*d:s*t*d+d])
			case PoolMax:
				argmax(x, m, s, t, d, idx)
				for j, i := range idx {
					if ms[i] == 0 {
						dst[j] = maxMasked
					} else {
						dst[j] = x[(s*t+i)*d+j]
					}
				}
			default:
				acc := make([]float64, d)
				for i := 0; i < t; i++ {
					w := float64(ms[i])
					for j, v := range x[(s*t+i)*d : (s*t+i+1)*d] {
						acc[j] += float64(v) * w
					}
				}
				c := divisor(ms, mode)
				for j, v := range acc {
					dst[j] = T(v / c)
				}
			}
		}
		return nil
	}
}

func poolGrad[T float](mode PoolMode) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		x, m, g, dx := data[T](in[0]), data[T](in[1]), data[T](in[2]), data[T](out)
		b, t, d := poolSizes(in[1], out)
		for i := range dx {
			dx[i] = 0
		}
		idx := make([]int, d)
		for s := 0; s < b; s++ {
			gs, ms := g[s*d:(s+1)*d], m[s*t:(s+1)*t]
			switch mode {
			case PoolCLS:
				copy(dx[s*t*d:], gs)
			case PoolMax:
				argmax(x, m, s, t, d, idx)
				for j, i := range idx {
					if ms[i] != 0 {
						dx[(s*t+i)*d+j] = gs[j]
					}
				}
			default:
				c := divisor(ms, mode)
				for i := 0; i < t; i++ {
					w := float64(ms[i]) / c
					for j, v := range gs {
						dx[(s*t+i)*d+j] = T(float64(v) * w)
					}
				}
			}
		}
		return nil
	}
}

// Normalize scales each row of x [N, D] to unit L2 norm, x / max(‖x‖, 1e-12),
// as torch.nn.functional.normalize and sentence-transformers' Normalize module.
func Normalize(x *G.Node, opts ...Option) (*G.Node, error) {
	return pointwise("Normalize", devNormalize, x, rowwise(kernel.L2Normalize[float32], nil), rowwise(kernel.L2Normalize[float64], nil),
		rowwise(nil, kernel.L2NormalizeBackward[float32]), rowwise(nil, kernel.L2NormalizeBackward[float64]), false, opts)
}
