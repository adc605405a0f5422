package encoder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/optim"
	"github.com/genq-go/genq/internal/train"
)

// fitCheckpoint is the folder name of Fit's checkpoint inside CheckpointDir.
// It holds state.json (step, batcher, optimizer step counts),
// weights.safetensors and optimizer.safetensors (AdamW's moments).
const fitCheckpoint = "fit-checkpoint"

// fitState is state.json.
type fitState struct {
	Step       int                 `json:"step"`        // optimizer steps taken
	TotalSteps int                 `json:"total_steps"` // of the run it belongs to
	Batcher    *train.BatcherState `json:"batcher"`     // nil for in-order batches
	AdamSteps  map[string]int64    `json:"adam_steps"`  // per-parameter AdamW step counts
}

// writeCheckpoint writes the training state after step steps into a
// temporary folder and swaps it in for the previous checkpoint.
func (m *Model) writeCheckpoint(dir string, step, total int, params []*param, opt *optim.AdamW, b *train.NoDuplicates) (err error) {
	wrap := func(err error) error {
		return fmt.Errorf("encoder: Fit: writing the checkpoint of step %d: %w", step, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return wrap(err)
	}
	tmp, err := os.MkdirTemp(dir, "."+fitCheckpoint+".tmp-*")
	if err != nil {
		return wrap(err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	st := fitState{Step: step, TotalSteps: total, AdamSteps: map[string]int64{}}
	if b != nil {
		bs := b.State()
		st.Batcher = &bs
	}
	weights := map[string]*checkpoint.Tensor{}
	for _, p := range params {
		weights[p.name] = &checkpoint.Tensor{DType: "F32", Shape: append([]int{}, p.t.Shape()...), F32: p.data()}
	}
	moments := map[string]*checkpoint.Tensor{}
	for name, ps := range opt.State().Params {
		st.AdamSteps[name] = ps.Step
		moments["exp_avg/"+name] = &checkpoint.Tensor{DType: "F32", Shape: []int{len(ps.ExpAvg)}, F32: ps.ExpAvg}
		moments["exp_avg_sq/"+name] = &checkpoint.Tensor{DType: "F32", Shape: []int{len(ps.ExpAvgSq)}, F32: ps.ExpAvgSq}
	}
	if err := checkpoint.WriteSafetensors(filepath.Join(tmp, "weights.safetensors"), weights, nil); err != nil {
		return wrap(err)
	}
	if err := checkpoint.WriteSafetensors(filepath.Join(tmp, "optimizer.safetensors"), moments, nil); err != nil {
		return wrap(err)
	}
	js, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return wrap(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "state.json"), js, 0o644); err != nil {
		return wrap(err)
	}
	final := filepath.Join(dir, fitCheckpoint)
	old := ""
	if _, err := os.Stat(final); err == nil {
		old = filepath.Join(dir, "."+fitCheckpoint+".old")
		os.RemoveAll(old)
		if err := os.Rename(final, old); err != nil {
			return wrap(err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return wrap(err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

// resume restores the state of dir's checkpoint, if there is one, and
// returns the number of steps already taken (0 without a checkpoint).
func (m *Model) resume(dir string, total int, params []*param, opt *optim.AdamW, b *train.NoDuplicates) (int, error) {
	cp := filepath.Join(dir, fitCheckpoint)
	if _, err := os.Stat(cp); errors.Is(err, os.ErrNotExist) {
		// a crash between the two renames of writeCheckpoint leaves only the old one
		if _, err := os.Stat(filepath.Join(dir, "."+fitCheckpoint+".old")); err != nil {
			return 0, nil
		}
		cp = filepath.Join(dir, "."+fitCheckpoint+".old")
	}
	wrap := func(err error) error { return fmt.Errorf("encoder: Fit: resuming from %s: %w", cp, err) }
	var st fitState
	b0, err := os.ReadFile(filepath.Join(cp, "state.json"))
	if err != nil {
		return 0, wrap(err)
	}
	if err := json.Unmarshal(b0, &st); err != nil {
		return 0, wrap(err)
	}
	if st.TotalSteps != total || st.Step < 0 || st.Step > total {
		return 0, wrap(fmt.Errorf("the checkpoint is of a run of %d steps at step %d; this run has %d steps (same pairs, Epochs and BatchSize to resume, or another CheckpointDir to start over)",
			st.TotalSteps, st.Step, total))
	}
	if (st.Batcher == nil) != (b == nil) {
		return 0, wrap(errors.New("the checkpoint's batch order does not match this run's"))
	}
	weights, err := checkpoint.ReadSafetensors(filepath.Join(cp, "weights.safetensors"))
	if err != nil {
		return 0, wrap(err)
	}
	moments, err := checkpoint.ReadSafetensors(filepath.Join(cp, "optimizer.safetensors"))
	if err != nil {
		return 0, wrap(err)
	}
	for _, p := range params {
		t, ok := weights[p.name]
		if !ok || len(t.F32) != len(p.data()) {
			return 0, wrap(fmt.Errorf("weight %s missing or of another size", p.name))
		}
	}
	saved := optim.State{Params: map[string]optim.ParamState{}}
	for name, steps := range st.AdamSteps {
		a, b := moments["exp_avg/"+name], moments["exp_avg_sq/"+name]
		if a == nil || b == nil {
			return 0, wrap(fmt.Errorf("AdamW moments of %s missing", name))
		}
		saved.Params[name] = optim.ParamState{Step: steps, ExpAvg: a.F32, ExpAvgSq: b.F32}
	}
	if err := opt.LoadState(saved); err != nil {
		return 0, wrap(err)
	}
	if b != nil {
		if err := b.SetState(*st.Batcher); err != nil {
			return 0, wrap(err)
		}
	}
	for _, p := range params {
		copy(p.data(), weights[p.name].F32)
	}
	return st.Step, nil
}
