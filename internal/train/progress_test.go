package train

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProgressDisabledIsSilent(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, "Iteration", 0, 3, false)
	p.Step(1.5)
	p.Finish()
	var nilProgress *Progress
	nilProgress.Step(1)
	nilProgress.Finish()
	require.Empty(t, buf.String(), "disabled progress")
}

func TestProgressShowsStepsLossAndRate(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, "Iteration", 1, 3, true)
	p.Step(0.25)
	p.Step(0.125)
	p.Finish()
	out := buf.String()
	for _, want := range []string{"Iteration loss 0.1250", "3/3", "steps/s"} {
		assert.Contains(t, out, want)
	}
}
