package train

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress reports training progress on a writer: a bar with the step count
// out of the total, the latest loss and the rate in steps per second. A
// disabled Progress (or a nil *Progress) does nothing and writes nothing, as
// fit(show_progress_bar=False).
type Progress struct {
	bar         *progressbar.ProgressBar
	description string
}

// NewProgress returns a reporter for total steps, starting after done steps
// (non-zero when a run resumes), labelled with description. It writes to w
// only when enabled.
func NewProgress(w io.Writer, description string, done, total int, enabled bool) *Progress {
	if !enabled || w == nil {
		return &Progress{}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetWidth(20),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	if done > 0 {
		_ = bar.Set(done) // writing to w may fail; progress is best effort
	}
	return &Progress{bar: bar, description: description}
}

// Step records one completed step and its loss.
func (p *Progress) Step(loss float64) {
	if p == nil || p.bar == nil {
		return
	}
	p.bar.Describe(strings.TrimSpace(fmt.Sprintf("%s loss %.4f", p.description, loss)))
	_ = p.bar.Add(1)
}

// Finish completes the bar and ends its line.
func (p *Progress) Finish() {
	if p == nil || p.bar == nil {
		return
	}
	_ = p.bar.Finish()
}
