//go:build cuda

package devopt

import (
	"testing"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// params returns the test's parameters, fresh: a weight, a bias, an
// embedding table and one that never gets a gradient.
func params() []*optim.Param {
	fill := func(n int, a, b float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = a + b*float32((i*7)%11)
		}
		return x
	}
	return []*optim.Param{
		{Name: "w", Data: fill(12, -0.5, 0.1)},
		{Name: "b", Data: fill(4, 0.2, -0.05)},
		{Name: "emb", Data: fill(10, 0.3, 0.07)},
		{Name: "unused", Data: fill(3, 1, 0.5)},
	}
}

// adamw returns an AdamW over ps: weight decay 0.01 for w and emb, none for
// the others.
func adamw(t *testing.T, ps []*optim.Param) *optim.AdamW {
	o, err := optim.NewAdamW(optim.DefaultConfig(),
		optim.Group{WeightDecay: 0.01, Params: []*optim.Param{ps[0], ps[2]}},
		optim.Group{Params: []*optim.Param{ps[1], ps[3]}})
	require.NoError(t, err)
	return o
}

// stepInputs are the inputs of step k; each gradient the graph computes is
// twice its input (x + x on the device).
func stepInputs(k int) (w1, w2, b, rows []float32) {
	f := func(n int, s float32) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = s * float32((i*5+k*3)%9-4)
		}
		return x
	}
	return f(12, 0.3), f(12, -0.2), f(4, 0.7), f(8, 0.4)
}

// rowIDs are the embedding rows the 4 gathered rows come from (row 1 twice).
var rowIDs = []int{1, 3, 1, 0}

// feeder builds a graph on the device that feeds o — w's gradient in two
// parts (the second added to the first), b's whole, emb's as gathered rows
// with a repeated id, none for unused — and returns a step: run the graph
// on step k's inputs and step o at lr, returning the norm.
func feeder(t *testing.T, o *Optimizer, lr float64) func(k int) float64 {
	g := G.NewGraph()
	in := map[string]*G.Node{}
	twice := func(name string, shape ...int) *G.Node {
		in[name] = G.NewTensor(g, tensor.Float32, len(shape), G.WithShape(shape...), G.WithName(name))
		y, err := G.Add(in[name], in[name])
		require.NoError(t, err)
		return y
	}
	require.NoError(t, o.Feed(twice("w1", 3, 4), "w"))
	require.NoError(t, o.Feed(twice("w2", 3, 4), "w"))
	require.NoError(t, o.Feed(twice("b", 4), "b"))
	require.NoError(t, o.FeedRows(twice("rows", 4, 2), "emb", func() []int { return rowIDs }))
	require.Error(t, o.Feed(in["b"], "nothing"), "a parameter the optimizer does not hold")
	require.Error(t, o.Feed(in["b"], "w"), "a gradient of another size")
	vm, err := cuda.NewMachine(g)
	require.NoError(t, err)
	t.Cleanup(func() { vm.Close() })
	return func(k int) float64 {
		w1, w2, b, rows := stepInputs(k)
		for name, v := range map[string][]float32{"w1": w1, "w2": w2, "b": b, "rows": rows} {
			require.NoError(t, G.Let(in[name], tensor.New(tensor.WithShape(in[name].Shape()...), tensor.WithBacking(v))))
		}
		o.Begin()
		require.NoError(t, vm.RunAll())
		vm.Reset()
		norm, err := o.Step(lr)
		require.NoError(t, err)
		return norm
	}
}

// TestOptimizerMatchesHost feeds an Optimizer from a graph on the device
// (see feeder) and checks two steps against optim.ClipGradNorm and
// AdamW.Step on the same gradients on the host: the norms within 1e-6
// relative (the device sums squares in double, the host in torch's float32
// lanes), the parameters within 1e-6 + 1e-5·|want|, unused untouched, the
// downloaded state's step counts exact and its moments within the same
// tolerance. Then it checks that an Optimizer made over a host optimizer
// that loaded that state and those parameters (a resumed run) takes the
// third step bit for bit as the first one does.
func TestOptimizerMatchesHost(t *testing.T) {
	require.True(t, cuda.Enabled(), "the device optimizer needs the GPU: %v", cuda.Err())
	const lr, maxNorm = 1e-2, 0.5
	dps, hps := params(), params()
	host := adamw(t, hps)
	o, err := New(adamw(t, dps), optim.DefaultConfig(), maxNorm)
	require.NoError(t, err)
	require.NotNil(t, o)
	defer o.Close()
	step := feeder(t, o, lr)

	hostStep := func(k int) float64 {
		w1, w2, b, rows := stepInputs(k)
		gw, gb, gemb := make([]float32, 12), make([]float32, 4), make([]float32, 10)
		for i := range gw {
			gw[i] = (w1[i] + w1[i]) + (w2[i] + w2[i])
		}
		for i := range gb {
			gb[i] = b[i] + b[i]
		}
		for r, id := range rowIDs {
			for j := range 2 {
				gemb[id*2+j] += rows[r*2+j] + rows[r*2+j]
			}
		}
		hps[0].Grad, hps[1].Grad, hps[2].Grad = gw, gb, gemb
		norm := optim.ClipGradNorm([][]float32{gw, gb, gemb, nil}, maxNorm)
		require.NoError(t, host.Step(lr))
		return norm
	}
	for k := range 2 {
		got, want := step(k), hostStep(k)
		assert.InEpsilon(t, want, got, 1e-6, "step %d's norm", k)
		assert.Greater(t, want, maxNorm, "step %d clips", k)
	}
	for i, p := range hps {
		testutil.AllClose(t, p.Name, dps[i].Data, p.Data, 1e-6, 1e-5)
	}
	assert.Equal(t, params()[3].Data, dps[3].Data, "a parameter without a gradient is not stepped")
	assert.NotEqual(t, params()[0].Data, dps[0].Data, "the steps moved w")

	require.NoError(t, o.Download())
	s, want := o.host.State(), host.State()
	require.Equal(t, want.Names(), s.Names())
	for _, name := range want.Names() {
		assert.Equal(t, want.Params[name].Step, s.Params[name].Step, name)
		testutil.AllClose(t, name+" m", s.Params[name].ExpAvg, want.Params[name].ExpAvg, 1e-6, 1e-5)
		testutil.AllClose(t, name+" v", s.Params[name].ExpAvgSq, want.Params[name].ExpAvgSq, 1e-6, 1e-5)
	}

	// A resumed run: the parameters and state after step 1 on a fresh
	// optimizer, which uploads them at its first step.
	rps := params()
	for i := range rps {
		rps[i].Data = append([]float32(nil), dps[i].Data...)
	}
	rhost := adamw(t, rps)
	require.NoError(t, rhost.LoadState(s))
	r, err := New(rhost, optim.DefaultConfig(), maxNorm)
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, step(2), feeder(t, r, lr)(2), "step 2's norm, resumed")
	for i := range dps {
		assert.Equal(t, dps[i].Data, rps[i].Data, "%s after step 2, resumed", dps[i].Name)
	}
}
