package t5

// Fit's checkpoints: the weights, AdamW's moments and the step history in an
// internal/train Store, with the run's fingerprint so that Fit resumes only
// the run that wrote them.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/train"
)

// gradNormsKey is the Extra entry that holds the run's gradient norms (JSON).
const gradNormsKey = "grad_norms"

// checkpoint is the training state after step steps: the weights, AdamW's
// moments, the losses and gradient norms so far, and the run's fingerprint.
// The tensors alias the model's weights; Store.Save writes them at once.
func (tr *fitTrainer) checkpoint(step, perEpoch int, run map[string]string, res FitResult) *train.Checkpoint {
	extra := maps.Clone(run)
	norms, _ := json.Marshal(res.GradNorms) // a []float64 of finite norms always encodes
	extra[gradNormsKey] = string(norms)
	c := &train.Checkpoint{Step: step, Epoch: step / perEpoch, Optimizer: tr.opt.State(),
		Params: map[string]*checkpoint.Tensor{}, Losses: res.Losses, Extra: extra}
	for _, t := range tr.m.mod.order {
		c.Params[tr.m.mod.names[t]] = &checkpoint.Tensor{DType: "F32", Shape: slices.Clone(t.Shape), F32: t.Data}
	}
	return c
}

// resume checks that checkpoint c belongs to this run (fingerprint run, of
// total steps) and that opts.Resume asks to continue it, then restores the
// weights, AdamW's moments and the history, which it returns. The weights
// are left as they are when a check fails.
func (tr *fitTrainer) resume(c *train.Checkpoint, run map[string]string, total int, opts FitOptions) (FitResult, error) {
	dir := opts.CheckpointDir
	var differ []string
	for _, k := range slices.Sorted(maps.Keys(run)) {
		if saved := c.Extra[k]; saved != run[k] {
			differ = append(differ, fmt.Sprintf("%s: saved %q, now %q", k, saved, run[k]))
		}
	}
	if len(differ) > 0 {
		return FitResult{}, fmt.Errorf("t5: Fit: %s holds a checkpoint of another run (%s); use an empty CheckpointDir to start a new run, or resume with the same pairs and options",
			dir, strings.Join(differ, "; "))
	}
	var norms []float64
	if err := json.Unmarshal([]byte(c.Extra[gradNormsKey]), &norms); err != nil || len(norms) != c.Step || len(c.Losses) != c.Step || c.Step > total {
		return FitResult{}, fmt.Errorf("t5: Fit: the checkpoint in %s is at step %d with %d losses and %d gradient norms, of a run of %d steps; it is damaged or not Fit's",
			dir, c.Step, len(c.Losses), len(norms), total)
	}
	if !opts.Resume {
		return FitResult{}, fmt.Errorf("t5: Fit: %s holds a checkpoint of this run at step %d of %d; set FitOptions.Resume to continue it, or use an empty CheckpointDir to start over",
			dir, c.Step, total)
	}
	for _, t := range tr.m.mod.order {
		name := tr.m.mod.names[t]
		if p := c.Params[name]; p == nil || len(p.F32) != len(t.Data) {
			return FitResult{}, fmt.Errorf("t5: Fit: the checkpoint in %s lacks %s of shape %v, or holds it with another size", dir, name, t.Shape)
		}
	}
	if err := tr.opt.LoadState(c.Optimizer); err != nil {
		return FitResult{}, fmt.Errorf("t5: Fit: resuming from the checkpoint of step %d in %s: %w", c.Step, dir, err)
	}
	for _, t := range tr.m.mod.order {
		copy(t.Data, c.Params[tr.m.mod.names[t]].F32)
	}
	return FitResult{Losses: c.Losses, GradNorms: norms}, nil
}
