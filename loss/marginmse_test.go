package loss

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/internal/testutil"
)

// marginOracle is a slow, obviously-right float64 MarginMSE (dot-product
// scores) and its hand-derived gradients: with r_ik = q_i·p_i − q_i·n_ik −
// label_ik and M = B·n,
//
//	dL/dq_i = 2/M Σ_k r_ik (p_i − n_ik),  dL/dp_i = 2/M Σ_k r_ik q_i,
//	dL/dn_ik = −2/M r_ik q_i.
func marginOracle(cols [][][]float64, labels [][]float64) (loss float64, grads [][][]float64) {
	q, p := cols[0], cols[1]
	b, n := len(q), len(cols)-2
	m := float64(b * n)
	grads = make([][][]float64, len(cols))
	for c := range cols {
		grads[c] = make([][]float64, b)
		for i := range grads[c] {
			grads[c][i] = make([]float64, len(q[i]))
		}
	}
	for i := range b {
		for k := range n {
			neg := cols[2+k][i]
			r := dot(q[i], p[i]) - dot(q[i], neg) - labels[i][k]
			loss += r * r / m
			for j := range q[i] {
				grads[0][i][j] += 2 / m * r * (p[i][j] - neg[j])
				grads[1][i][j] += 2 / m * r * q[i][j]
				grads[2+k][i][j] -= 2 / m * r * q[i][j]
			}
		}
	}
	return loss, grads
}

// runLoss builds l over the [B, D] matrices and the labels in dtype dt,
// differentiates it and runs it; it returns the loss and the gradient of
// every column.
func runLoss(t *testing.T, l Loss, dt tensor.Dtype, labels [][]float64, mats ...[][]float64) (float64, [][]float64) {
	t.Helper()
	g := gorgonia.NewGraph()
	nodes := make([]*gorgonia.Node, len(mats))
	for i, m := range mats {
		nodes[i] = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(len(m), len(m[0])),
			gorgonia.WithName(fmt.Sprintf("column%d", i)), gorgonia.WithValue(denseOf(dt, m)))
	}
	var ln *gorgonia.Node
	if labels != nil {
		ln = gorgonia.NewMatrix(g, dt, gorgonia.WithShape(len(labels), len(labels[0])), gorgonia.WithName("labels"),
			gorgonia.WithValue(denseOf(dt, labels)))
	}
	cost, err := l.Compute(nodes, ln)
	require.NoError(t, err)
	_, err = gorgonia.Grad(cost, nodes...)
	require.NoError(t, err)
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(nodes...))
	defer m.Close()
	require.NoError(t, m.RunAll())
	var grads [][]float64
	for _, n := range nodes {
		gv, err := n.Grad()
		require.NoError(t, err)
		grads = append(grads, floats(gv))
	}
	return floats(cost.Value())[0], grads
}

func randomMatrix(rng *rand.Rand, b, d int, std float64) [][]float64 {
	m := make([][]float64, b)
	for i := range m {
		m[i] = make([]float64, d)
		for j := range m[i] {
			m[i][j] = std * rng.NormFloat64()
		}
	}
	return m
}

// TestMarginMSEGradient checks MarginMSE (dot product) in Float64 against
// the oracle (loss and gradients within 1e-12 + 1e-9·|want|) and against
// central finite differences of the loss (h = 1e-5, 1e-8 + 1e-6·|g|), and
// in Float32 against the oracle (1e-5 + 1e-5·|want|), for one and for
// several hard negatives.
func TestMarginMSEGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		name       string
		b, d, negs int
	}{
		{"triplets", 4, 5, 1},
		{"two negatives", 3, 4, 2},
		{"batch of one", 1, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mats := make([][][]float64, 2+tc.negs)
			for i := range mats {
				mats[i] = randomMatrix(rng, tc.b, tc.d, 0.8)
			}
			labels := randomMatrix(rng, tc.b, tc.negs, 2)
			wantLoss, wantGrads := marginOracle(mats, labels)

			loss, grads := runLoss(t, NewMarginMSE(), tensor.Float64, labels, mats...)
			assert.InDelta(t, wantLoss, loss, 1e-12+1e-9*wantLoss, "loss")
			for c := range mats {
				testutil.AllClose(t, fmt.Sprintf("grad[%d]", c), grads[c], flatten(wantGrads[c]), 1e-12, 1e-9)
			}
			for c := range mats {
				x := flatten(mats[c])
				fd := testutil.NumericGrad(x, 1e-5, func() float64 {
					cols := append([][][]float64(nil), mats...)
					cols[c] = rowsOf64(x, tc.d)
					l, _ := runLoss(t, NewMarginMSE(), tensor.Float64, labels, cols...)
					return l
				})
				testutil.AllClose(t, fmt.Sprintf("finite differences [%d]", c), grads[c], fd, 1e-8, 1e-6)
			}

			loss32, grads32 := runLoss(t, NewMarginMSE(), tensor.Float32, labels, mats...)
			assert.InDelta(t, wantLoss, loss32, 1e-5+1e-5*wantLoss, "float32 loss")
			for c := range mats {
				testutil.AllClose(t, fmt.Sprintf("float32 grad[%d]", c), grads32[c], flatten(wantGrads[c]), 1e-5, 1e-5)
			}
		})
	}
}

// rowsOf64 splits a row-major slice into rows of cols (copies).
func rowsOf64(x []float64, cols int) [][]float64 {
	var out [][]float64
	for i := 0; i < len(x); i += cols {
		out = append(out, append([]float64(nil), x[i:i+cols]...))
	}
	return out
}
