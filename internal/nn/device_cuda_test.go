//go:build cuda

package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/testutil"
)

// deviceTol bounds |gpu − cpu| / max(1, |cpu|) for the products below: both
// sum the same float32 terms, in different orders.
const deviceTol = 1e-5

// TestDeviceProducts runs each matrix-product op (Linear with and without
// bias, LinearGradX, LinearGradW) on the GPU through cuda.NewMachine and
// compares it with the op's CPU kernel on the same inputs. The sizes are odd
// and x has three axes, so a row/column-major or leading-dimension mix-up
// cannot cancel out.
func TestDeviceProducts(t *testing.T) {
	require.True(t, cuda.Enabled(), "the GPU is not usable: %v", cuda.Err())
	const b, s, in, out = 3, 11, 17, 9
	fill := func(n int, f float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(0.7 * math.Sin(f*float64(i)+0.3))
		}
		return v
	}
	xs, ws, bs, gs := fill(b*s*in, 0.37), fill(out*in, 0.11), fill(out, 0.5), fill(b*s*out, 0.23)
	dense := func(v []float32, shape ...int) *tensor.Dense {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), v...)))
	}
	cases := []struct {
		name   string
		build  func(g *G.ExprGraph) (*G.Node, error)
		kfunc  kfunc
		inputs []*tensor.Dense
		shape  tensor.Shape
	}{
		{"Linear+bias", func(g *G.ExprGraph) (*G.Node, error) {
			return Linear(constant(g, "x", dense(xs, b, s, in)), constant(g, "w", dense(ws, out, in)), constant(g, "b", dense(bs, out)))
		}, linearForward[float32], []*tensor.Dense{dense(xs, b, s, in), dense(ws, out, in), dense(bs, out)}, tensor.Shape{b, s, out}},
		{"Linear", func(g *G.ExprGraph) (*G.Node, error) {
			return Linear(constant(g, "x", dense(xs, b*s, in)), constant(g, "w", dense(ws, out, in)), nil)
		}, linearForward[float32], []*tensor.Dense{dense(xs, b*s, in), dense(ws, out, in)}, tensor.Shape{b * s, out}},
		{"LinearGradX", func(g *G.ExprGraph) (*G.Node, error) {
			gn, wn := constant(g, "g", dense(gs, b*s, out)), constant(g, "w", dense(ws, out, in))
			return apply(&op{name: "LinearGradX", in: typesOf(gn, wn), shape: tensor.Shape{b * s, in}, dtype: tensor.Float32, fwd: linearGradX[float32], gemm: &product{}}, gn, wn)
		}, linearGradX[float32], []*tensor.Dense{dense(gs, b*s, out), dense(ws, out, in)}, tensor.Shape{b * s, in}},
		{"LinearGradW", func(g *G.ExprGraph) (*G.Node, error) {
			gn, xn := constant(g, "g", dense(gs, b*s, out)), constant(g, "x", dense(xs, b*s, in))
			return apply(&op{name: "LinearGradW", in: typesOf(gn, xn), shape: tensor.Shape{out, in}, dtype: tensor.Float32, fwd: linearGradW[float32], gemm: &product{transA: true}}, gn, xn)
		}, linearGradW[float32], []*tensor.Dense{dense(gs, b*s, out), dense(xs, b*s, in)}, tensor.Shape{out, in}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := G.NewGraph()
			n, err := tc.build(g)
			require.NoError(t, err)
			require.IsType(t, &deviceOp{}, n.Op(), "the op must be a *deviceOp placed on the GPU")
			reads, err := cuda.ReadBack(n)
			require.NoError(t, err)
			vm, err := cuda.NewMachine(g)
			require.NoError(t, err)
			defer vm.Close()
			for run := 0; run < 2; run++ { // the second run reuses the machine's device memory
				require.NoError(t, vm.RunAll(), "run %d", run)
				got := reads.Value([]*G.Node{n}, 0).Data().([]float32)
				want := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(tc.shape...))
				require.NoError(t, tc.kfunc(tc.inputs, want))
				want64 := make([]float64, want.Size())
				for i, w := range want.Data().([]float32) {
					want64[i] = float64(w)
				}
				testutil.RelClose(t, fmt.Sprintf("run %d: gpu vs cpu", run), got, want64, deviceTol)
				vm.Reset()
			}
		})
	}
}

// constant adds a named float32 input holding v.
func constant(g *G.ExprGraph, name string, v *tensor.Dense) *G.Node {
	return G.NewTensor(g, tensor.Float32, v.Dims(), G.WithShape(v.Shape().Clone()...), G.WithName(name), G.WithValue(v))
}
