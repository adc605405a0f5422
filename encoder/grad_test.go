package encoder

import (
	"math"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/loss"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGradients builds the training graph on the golden batches (dropout 0,
// as in the fixtures) and compares the MNRL loss, its scores, the gradient
// of every parameter and their global norm with the reference:
// loss and scores |Δ| <= 1e-5 + 1e-4·|want|; gradients |Δ| <= 1e-5 + 1e-4·|want|
func TestGradients(t *testing.T) {
	eachFixture(t, func(t *testing.T, m *Model, g *testutil.Golden) {
		q, p := goldenBatch(t, g, "query"), goldenBatch(t, g, "passage")
		tg, err := m.buildTrain(len(q.ids), []int{len(q.ids[0]), len(p.ids[0])}, loss.NewMNRL(), nil, nil)
		require.NoError(t, err)
		require.NoError(t, tg.step(q, p))
		allClose(t, "mnrl.loss", []float32{float32(tg.lossValue())}, g.T(t, "mnrl.loss").F32, 1e-5, 1e-4)
		allClose(t, "mnrl.scores", tg.scores.Data().([]float32), g.T(t, "mnrl.scores").F32, 1e-5, 1e-4)
		var names, noGrad []string
		g.Decode(t, "parameter_names", &names)
		g.Decode(t, "fit_step", &struct {
			P *[]string `json:"params_without_grad"`
		}{&noGrad})
		got := map[string][]float32{}
		var ss float64
		for i, p := range tg.params {
			got[p.name] = tg.gradData()[i]
			for _, v := range got[p.name] {
				ss += float64(v) * float64(v)
			}
		}
		skip := map[string]bool{}
		for _, n := range noGrad {
			skip[n] = true
		}
		for _, n := range names {
			gr, ok := got[n]
			if skip[n] {
				assert.False(t, ok, "%s has a gradient; the reference has none", n)
				continue
			}
			if assert.True(t, ok, "no gradient for %s", n) {
				allClose(t, "grad."+n, gr, g.T(t, "grad."+n).F32, 1e-5, 1e-4)
			}
		}
		assert.Len(t, got, len(names)-len(noGrad))
		allClose(t, "grad_total_norm", []float32{float32(math.Sqrt(ss))}, g.T(t, "grad_total_norm").F32, 1e-5, 1e-4)
	})
}
