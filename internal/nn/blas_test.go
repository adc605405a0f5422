package nn

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/require"
)

// graphResult is what runGraph reads back: forward values, then gradients.
type graphResult struct {
	names  []string
	values [][]float32
}

// runGraph builds and runs a small graph with every product gorgonia sends
// to Sgemm: a MatMul of row-major matrices (Mul), a MatMul against a
// transposed weight as a Linear layer does, and a BatchedMatMul with
// transposed B as attention does; the backward pass adds the Trans×NoTrans
// and NoTrans×Trans products of the gradients.
func runGraph(t *testing.T) graphResult {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	val := func(shape ...int) *tensor.Dense {
		n := 1
		for _, s := range shape {
			n *= s
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
	}
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(37, 29), G.WithName("x"), G.WithValue(val(37, 29)))
	w := G.NewMatrix(g, tensor.Float32, G.WithShape(23, 29), G.WithName("w"), G.WithValue(val(23, 29)))
	v := G.NewMatrix(g, tensor.Float32, G.WithShape(23, 31), G.WithName("v"), G.WithValue(val(23, 31)))
	q := G.NewTensor(g, tensor.Float32, 3, G.WithShape(4, 17, 9), G.WithName("q"), G.WithValue(val(4, 17, 9)))
	k := G.NewTensor(g, tensor.Float32, 3, G.WithShape(4, 11, 9), G.WithName("k"), G.WithValue(val(4, 11, 9)))

	wT := G.Must(G.Transpose(w))
	h := G.Must(G.Mul(x, wT))                       // 37×23, Linear: x·wᵀ
	y := G.Must(G.Mul(h, v))                        // 37×31
	s := G.Must(G.BatchedMatMul(q, k, false, true)) // 4×17×11
	cost := G.Must(G.Add(G.Must(G.Sum(G.Must(G.Square(y)))), G.Must(G.Sum(G.Must(G.Square(s))))))
	grads, err := G.Grad(cost, x, w, v, q, k)
	require.NoError(t, err, "Grad")
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	require.NoError(t, vm.RunAll())
	var res graphResult
	add := func(name string, n *G.Node) {
		data := n.Value().Data().([]float32)
		res.names = append(res.names, name)
		res.values = append(res.values, append([]float32(nil), data...))
	}
	add("y", y)
	add("s", s)
	for i, name := range []string{"dx", "dw", "dv", "dq", "dk"} {
		add(name, grads[i])
	}
	return res
}

// TestUseBLASMatchesGonum requires that importing this package leaves
// gorgonia's BLAS alone, runs the same gorgonia graph with gonum's BLAS and
// after UseBLAS, and requires the forward values and gradients to agree
// within atol 1e-3, rtol 1e-5 (values reach ~10³; float32 sums in another
// order).
func TestUseBLASMatchesGonum(t *testing.T) {
	require.IsType(t, gonum.Implementation{}, G.WhichBLAS(), "gorgonia's BLAS after importing nn")
	want := runGraph(t)
	UseBLAS()
	t.Cleanup(func() { G.Use(gonum.Implementation{}) })
	require.IsType(t, BLAS{}, G.WhichBLAS(), "gorgonia's BLAS after UseBLAS")
	require.IsType(t, BLAS{}, tensor.WhichBLAS(), "tensor's BLAS after UseBLAS")
	got := runGraph(t)
	for i, name := range want.names {
		testutil.AllClose(t, name, got.values[i], want.values[i], 1e-3, 1e-5)
	}
}
