package loss

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// result is what one run of the MNRL graph produced, as float64.
type result struct {
	loss   float64
	scores []float64   // row-major [B, N]
	grads  [][]float64 // d loss / d input, anchors first
}

// runMNRL builds MNRL over the given [B, D] matrices (anchors first) in dtype
// dt, differentiates it with gorgonia.Grad and runs it on a TapeMachine.
func runMNRL(t testing.TB, l MNRL, dt tensor.Dtype, mats ...[][]float64) result {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(mats))
	for i, m := range mats {
		nodes[i] = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(len(m), len(m[0])),
			gorgonia.WithName(string(rune('a'+i))), gorgonia.WithValue(denseOf(dt, m)))
	}
	lossNode, err := l.Loss(nodes[0], nodes[1:]...)
	require.NoError(t, err)
	scores, err := l.Scores(nodes[0], nodes[1:]...)
	require.NoError(t, err)
	var sv gorgonia.Value
	gorgonia.Read(scores, &sv)
	_, err = gorgonia.Grad(lossNode, nodes...)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(nodes...))
	defer m.Close()
	require.NoError(t, m.RunAll())
	r := result{loss: floats(lossNode.Value())[0], scores: floats(sv)}
	for _, n := range nodes {
		gv, err := n.Grad()
		require.NoError(t, err)
		r.grads = append(r.grads, floats(gv))
	}
	return r
}

func denseOf(dt tensor.Dtype, m [][]float64) *tensor.Dense {
	rows, cols := len(m), len(m[0])
	if dt == tensor.Float32 {
		b := make([]float32, 0, rows*cols)
		for _, r := range m {
			for _, v := range r {
				b = append(b, float32(v))
			}
		}
		return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(b))
	}
	b := make([]float64, 0, rows*cols)
	for _, r := range m {
		b = append(b, r...)
	}
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(b))
}

func floats(v gorgonia.Value) []float64 {
	switch d := v.Data().(type) {
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case []float64:
		return append([]float64(nil), d...)
	}
	return nil
}

// rowsOf splits a row-major float32 slice into rows of float64.
func rowsOf(x []float32, cols int) [][]float64 {
	var out [][]float64
	for i := 0; i < len(x); i += cols {
		r := make([]float64, cols)
		for j := range r {
			r[j] = float64(x[i+j])
		}
		out = append(out, r)
	}
	return out
}

func flatten(m [][]float64) []float64 {
	var out []float64
	for _, r := range m {
		out = append(out, r...)
	}
	return out
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}
