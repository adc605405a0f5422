package encoder

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/train"
)

// fitRun fingerprints a Fit run in its checkpoints' Extra: the settings that
// shape its trajectory. Fit resumes only from a checkpoint with the same
// fingerprint. (The batcher's own state also fingerprints the pairs and
// BatchSize.)
func fitRun(opts FitOptions, total, warmup int, batcher *train.NoDuplicates) map[string]string {
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
		"scale":         f(opts.Scale),
	}
}

// checkpoint is the training state after step steps: the weights, AdamW's
// moments and the batcher's position, with run's fingerprint.
func (tr *trainer) checkpoint(step, perEpoch int, run map[string]string, b *train.NoDuplicates) *train.Checkpoint {
	c := &train.Checkpoint{Step: step, Epoch: step / perEpoch, Optimizer: tr.opt.State(),
		Params: map[string]*checkpoint.Tensor{}, Extra: run}
	if b != nil {
		c.Batches = b.State()
	}
	for _, p := range tr.all {
		c.Params[p.name] = &checkpoint.Tensor{DType: "F32", Shape: slices.Clone(p.t.Shape()), F32: p.data()}
	}
	return c
}

// restore checks that c belongs to the run fingerprinted by run and of total
// steps, then loads its weights, AdamW's moments and the batcher's position.
// The model's weights are left as they are when a check fails.
func (tr *trainer) restore(c *train.Checkpoint, run map[string]string, total int, b *train.NoDuplicates) error {
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(run)) {
		if c.Extra[k] != run[k] {
			diffs = append(diffs, fmt.Sprintf("%s %q (this run: %q)", k, c.Extra[k], run[k]))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("the checkpoint belongs to another run: %s; resume with the same pairs and options, or use another CheckpointDir to start over",
			strings.Join(diffs, ", "))
	}
	if c.Step < 0 || c.Step > total {
		return fmt.Errorf("the checkpoint is at step %d of a run of %d steps", c.Step, total)
	}
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
