//go:build cuda

package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
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

// deviceOpTol bounds |gpu − cpu| / max(1, |cpu|) for every op family below,
// forward and backward: the device twins accumulate in double where the Go
// kernels accumulate in float64, but sum in another order (block trees,
// atomics for the scatter-adds) and round some intermediates differently.
const deviceOpTol = 1e-5

// TestDeviceOps runs every op family of this package (the gradient-check
// cases, plus dropout) on the GPU, forward and backward (the ops of each
// op's pullback, fed a random output gradient), through cuda.NewMachine,
// and holds each device op to its CPU op run on the same inputs, the values
// the device computed for them (so each op is checked on its own). Every
// float32 op must be placed on the device. It runs each graph twice, the
// second run reusing the machine's device memory.
func TestDeviceOps(t *testing.T) {
	require.True(t, cuda.Enabled(), "the GPU is not usable: %v", cuda.Err())
	cases := gradCases()
	var mask input // SelfAttention's padding mask
	for _, c := range cases {
		if c.name == "SelfAttention" {
			mask = c.inputs[1]
		}
	}
	drop := func(p float64) *Dropout { return NewDropout(p, 7) }
	cases = append(cases,
		gradCase{"Dropout", []input{{shape: tensor.Shape{5, 7}}}, func(in []*G.Node) (*G.Node, error) { return DropoutOp(in[0], drop(0.3)) }},
		gradCase{"SelfAttentionDropout", []input{{shape: tensor.Shape{12, 12}}, mask}, func(in []*G.Node) (*G.Node, error) {
			return SelfAttention(in[0], in[1], AttentionConfig{Batch: 2, Heads: 2, Dropout: drop(0.25)})
		}},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkDeviceCase(t, c) })
	}
}

// checkDeviceCase builds c in float32 with its pullback, runs it on the GPU
// and compares every op with its CPU op (see TestDeviceOps).
func checkDeviceCase(t *testing.T, c gradCase) {
	rng := rand.New(rand.NewPCG(11, uint64(len(c.name))))
	g := G.NewGraph()
	in := make([]*G.Node, len(c.inputs))
	for i, inp := range c.inputs {
		name := fmt.Sprintf("in%d", i)
		if inp.ints != nil {
			v := tensor.New(tensor.WithShape(inp.shape...), tensor.WithBacking(append([]int(nil), inp.ints...)))
			in[i] = G.NewTensor(g, tensor.Int, len(inp.shape), G.WithShape(inp.shape...), G.WithName(name), G.WithValue(v))
			continue
		}
		vals := make([]float32, inp.shape.TotalSize())
		for j := range vals {
			if inp.vals != nil {
				vals[j] = float32(inp.vals[j])
			} else {
				vals[j] = float32(rng.NormFloat64())
			}
		}
		in[i] = constant(g, name, tensor.New(tensor.WithShape(inp.shape...), tensor.WithBacking(vals)))
	}
	y, err := c.build(in)
	require.NoError(t, err)
	fwd, ok := y.Op().(*deviceOp)
	require.True(t, ok, "%v is a %T, not placed on the device", y.Op(), y.Op())
	var dy *G.Node
	if y.IsScalar() {
		dy = G.NewScalar(g, tensor.Float32, G.WithName("dy"), G.WithValue(float32(0.7)))
	} else {
		r := make([]float32, y.Shape().TotalSize())
		for j := range r {
			r[j] = float32(rng.NormFloat64())
		}
		dy = constant(g, "dy", tensor.New(tensor.WithShape(y.Shape()...), tensor.WithBacking(r)))
	}
	if fwd.back != nil {
		children := make(G.Nodes, 0, len(in))
		for it := g.From(y.ID()); it.Next(); {
			children = append(children, it.Node().(*G.Node))
		}
		_, err = fwd.back(children, y, dy)
		require.NoError(t, err)
	}
	var ops G.Nodes
	for _, n := range g.AllNodes() {
		switch n.Op().(type) {
		case *deviceOp:
			ops = append(ops, n)
		case *op:
			t.Fatalf("%v runs on the CPU", n.Op())
		}
	}
	all := append(append(G.Nodes{dy}, ops...), in...)
	reads, err := cuda.ReadBack(all...)
	require.NoError(t, err)
	vm, err := cuda.NewMachine(g)
	require.NoError(t, err)
	defer vm.Close()
	for run := 0; run < 2; run++ {
		var seeds []*Dropout // reseeded before the run and before the CPU redraws the masks
		for _, n := range ops {
			if s := n.Op().(*deviceOp).dev; s.kind == devDropout && s.grad == 0 {
				seeds = append(seeds, s.drop.src)
			} else if s.kind == devAttend && s.grad == 0 && s.attn.mask != nil {
				seeds = append(seeds, s.attn.drop)
			}
		}
		for _, s := range seeds {
			s.Reseed(uint64(100 + run))
		}
		require.NoError(t, vm.RunAll(), "run %d", run)
		value := map[*G.Node]G.Value{}
		for i, n := range all {
			value[n] = reads.Value(all, i)
		}
		for _, s := range seeds {
			s.Reseed(uint64(100 + run))
		}
		for _, n := range ops {
			d := n.Op().(*deviceOp)
			var args []G.Value
			for it := g.From(n.ID()); it.Next(); {
				args = append(args, value[it.Node().(*G.Node)])
			}
			want, err := d.op.Do(args...)
			require.NoError(t, err, "%s on the CPU", d.name)
			testutil.RelClose(t, fmt.Sprintf("run %d: %s: gpu vs cpu", run, d.name), floatsOf(value[n]), float64sOf(want), deviceOpTol)
		}
		vm.Reset()
	}
}

// floatsOf returns the float32 values of a tensor or scalar.
func floatsOf(v G.Value) []float32 {
	if s, ok := v.(*G.F32); ok {
		return []float32{float32(*s)}
	}
	return append([]float32(nil), v.Data().([]float32)...)
}

// float64sOf returns the values of a float32 tensor or scalar as float64s.
func float64sOf(v G.Value) []float64 {
	f := floatsOf(v)
	out := make([]float64, len(f))
	for i, x := range f {
		out[i] = float64(x)
	}
	return out
}
