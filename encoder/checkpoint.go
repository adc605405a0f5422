package encoder

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/train"
	"github.com/genq-go/genq/loss"
)

// fitRun fingerprints a Fit run in its checkpoints' Extra: the settings that
// shape its trajectory, the loss (its type and settings) among them. Fit
// resumes only from a checkpoint with the same fingerprint. (The batcher's
// own state also fingerprints the examples and BatchSize.)
func fitRun(opts FitOptions, l loss.Loss, total, warmup int, batcher *train.NoDuplicates) map[string]string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	order := "in-order"
	if batcher != nil {
		order = "no-duplicates"
	}
	return map[string]string{
		"total_steps":   strconv.Itoa(total),
		"batches":       order,
		"seed":          strconv.FormatUint(opts.Seed, 10),
		"learning_rate": f(opts.LearningRate),
		"warmup_steps":  strconv.Itoa(warmup),
		"weight_decay":  f(opts.WeightDecay),
		"max_grad_norm": f(opts.MaxGradNorm),
		"loss":          fmt.Sprintf("%T%+v", l, l),
	}
}

// checkpoint is the training state after step steps: the weights, AdamW's
// moments, the batcher's position and the losses so far, with run's
// fingerprint.
func (tr *trainer) checkpoint(step, perEpoch int, run map[string]string, b *train.NoDuplicates, losses []float64) *train.Checkpoint {
	c := &train.Checkpoint{Step: step, Epoch: step / perEpoch, Optimizer: tr.opt.State(),
		Params: map[string]*checkpoint.Tensor{}, Extra: run, Losses: losses}
	if b != nil {
		c.Batches = b.State()
	}
	for _, p := range tr.all {
		c.Params[p.name] = &checkpoint.Tensor{DType: "F32", Shape: slices.Clone(p.t.Shape()), F32: p.data()}
	}
	return c
}

// resume prepares store for the run (its folder writable, leftovers of an
// interrupted write removed) and, when it holds a checkpoint of this run,
// restores it: the result holds its losses and the damaged newer
// checkpoints that were passed over, which are also written to Progress.
func (tr *trainer) resume(store *train.Store, run map[string]string, total int, b *train.NoDuplicates, opts FitOptions) (FitResult, error) {
	var res FitResult
	if err := store.Prepare(); err != nil {
		return res, fmt.Errorf("encoder: Fit: CheckpointDir: %w", err)
	}
	c, err := store.Load()
	switch {
	case errors.Is(err, train.ErrNoCheckpoint):
		return res, nil
	case err != nil:
		return res, fmt.Errorf("encoder: Fit: reading the checkpoint in %s: %w", opts.CheckpointDir, err)
	}
	if err := checkResume(c, run, total, opts); err != nil {
		return res, err
	}
	if err := tr.restore(c, b); err != nil {
		return res, fmt.Errorf("encoder: Fit: resuming from the checkpoint of step %d in %s: %w", c.Step, opts.CheckpointDir, err)
	}
	res.Losses, res.SkippedCheckpoints = c.Losses, c.Skipped
	if opts.Progress != nil {
		for _, s := range c.Skipped {
			fmt.Fprintf(opts.Progress, "skipping a damaged checkpoint: %s\n", s)
		}
		if len(c.Skipped) > 0 {
			fmt.Fprintf(opts.Progress, "resuming from the older checkpoint of step %d\n", c.Step)
		}
	}
	return res, nil
}

// runDiffs lists the settings of the fingerprint run that checkpoint c does
// not share, as "name saved (this run: value)".
func runDiffs(c *train.Checkpoint, run map[string]string) []string {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(run)) {
		if c.Extra[k] != run[k] {
			diffs = append(diffs, fmt.Sprintf("%s %q (this run: %q)", k, c.Extra[k], run[k]))
		}
	}
	return diffs
}

// restore loads c's weights, AdamW's moments and the batcher's position
// (checkResume has checked that c belongs to this run). The model's weights
// are left as they are when a check fails.
func (tr *trainer) restore(c *train.Checkpoint, b *train.NoDuplicates) error {
	for _, p := range tr.all {
		t, ok := c.Params[p.name]
		if !ok || len(t.F32) != len(p.data()) {
			return fmt.Errorf("weight %s is missing or of another size (want shape %v)", p.name, p.t.Shape())
		}
	}
	if err := tr.opt.LoadState(c.Optimizer); err != nil {
		return err
	}
	if b != nil {
		if err := b.SetState(c.Batches); err != nil {
			return err
		}
	}
	for _, p := range tr.all {
		copy(p.data(), c.Params[p.name].F32)
	}
	return nil
}
