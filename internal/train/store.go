package train

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/atomicfile"
	"github.com/genq-go/genq/internal/checkpoint"
)

// Checkpoint is everything a training run needs to resume exactly where it
// stopped: after restoring it, the next step is number Step (0-based), with
// the same batches, optimizer moments and weights an uninterrupted run would
// have used.
type Checkpoint struct {
	// Step is the number of optimizer steps completed.
	Step int
	// Epoch is the epoch the next step belongs to.
	Epoch int
	// Batches is the batcher's state after the last completed step.
	Batches BatcherState
	// Optimizer is the optimizer's state after the last completed step.
	Optimizer optim.State
	// Params are the model's parameters by checkpoint name.
	Params map[string]*checkpoint.Tensor
	// Losses is the loss of every completed step, Losses[k] that of step k
	// (optional; a run that keeps its history resumes with it).
	Losses []float64
	// Extra holds free-form values (e.g. a fingerprint of the training
	// configuration, to refuse resuming under another one).
	Extra map[string]string
	// Skipped, set by Store.Load, lists the newer checkpoints that could not
	// be read and were passed over for this one, each with its problem.
	Skipped []string
}

// ErrNoCheckpoint is returned by Store.Load when the folder holds no
// checkpoint, i.e. the run starts from scratch.
var ErrNoCheckpoint = errors.New("train: no checkpoint")

// Store keeps the checkpoints of one training run in a folder, one
// sub-folder per saved step:
//
//	<Dir>/step-000000123/params.safetensors     named parameters
//	<Dir>/step-000000123/optimizer.safetensors  exp_avg.<name>, exp_avg_sq.<name>
//	<Dir>/step-000000123/state.json             step, epoch, batcher state,
//	                                            optimizer step counts, extra,
//	                                            SHA-256 of both tensor files
//
// Save writes a checkpoint into a hidden temporary folder, syncs every file
// and the folder, renames it into place and syncs Dir, so a crash or a power
// loss at any moment leaves either the previous checkpoint or the new one,
// and a Save that returned is on disk; leftovers of an interrupted Save are
// ignored by Load and removed by Prepare and the next Save. Keeping two
// checkpoints (the default) lets Load fall back to the older one when the
// latest is damaged.
//
// Load allocates nothing sized by a number a checkpoint declares before
// checking it: tensor sizes are checked by the safetensors reader against
// the files' lengths (products overflow-checked), and state.json's step,
// epoch, losses and optimizer moments against each other and the tensors.
type Store struct {
	// Dir is the folder of the checkpoints (sentence-transformers'
	// checkpoint_path); Prepare and Save create it.
	Dir string
	// Keep is how many of the latest checkpoints Save keeps; 0 means 2.
	Keep int
}

const (
	stepPrefix   = "step-"
	tmpPrefix    = ".tmp-"
	paramsFile   = "params.safetensors"
	optimFile    = "optimizer.safetensors"
	stateFile    = "state.json"
	stateVersion = 1
)

// stateJSON is the layout of state.json.
type stateJSON struct {
	Version        int               `json:"version"`
	Step           int               `json:"step"`
	Epoch          int               `json:"epoch"`
	Batches        BatcherState      `json:"batches"`
	OptimizerSteps map[string]int64  `json:"optimizer_steps"`
	Losses         []float64         `json:"losses,omitempty"`
	Extra          map[string]string `json:"extra,omitempty"`
	Files          map[string]string `json:"files"` // name → SHA-256
}

// Save writes c as the checkpoint of step c.Step and then removes all but
// the Keep latest checkpoints and any leftover temporary folders. Saving a
// step that already has a checkpoint replaces it; only a crash in the instant
// between moving the old copy aside and renaming the new one into place
// loses that step (a folder cannot be swapped atomically), so a training
// loop should save each step once.
func (s *Store) Save(c *Checkpoint) (err error) {
	if c == nil {
		return errors.New("train: Save of a nil checkpoint")
	}
	if c.Step < 0 {
		return fmt.Errorf("train: checkpoint step %d; want ≥ 0", c.Step)
	}
	if err := s.mkdir(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(s.Dir, tmpPrefix+"step-*")
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()

	st := stateJSON{
		Version: stateVersion, Step: c.Step, Epoch: c.Epoch, Batches: c.Batches, Losses: c.Losses, Extra: c.Extra,
		OptimizerSteps: map[string]int64{}, Files: map[string]string{},
	}
	moments := map[string]*checkpoint.Tensor{}
	for name, ps := range c.Optimizer.Params {
		st.OptimizerSteps[name] = ps.Step
		moments["exp_avg."+name] = &checkpoint.Tensor{DType: "F32", Shape: []int{len(ps.ExpAvg)}, F32: ps.ExpAvg}
		moments["exp_avg_sq."+name] = &checkpoint.Tensor{DType: "F32", Shape: []int{len(ps.ExpAvgSq)}, F32: ps.ExpAvgSq}
	}
	for file, tensors := range map[string]map[string]*checkpoint.Tensor{paramsFile: c.Params, optimFile: moments} {
		b, err := checkpoint.MarshalSafetensors(tensors, map[string]string{"format": "pt"})
		if err != nil {
			return fmt.Errorf("train: encoding %s: %w", file, err)
		}
		if err := atomicfile.WriteSynced(filepath.Join(tmp, file), b); err != nil {
			return fmt.Errorf("train: %w", err)
		}
		st.Files[file] = sha256Hex(b)
	}
	b, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return fmt.Errorf("train: encoding %s: %w", stateFile, err)
	}
	if err := atomicfile.WriteSynced(filepath.Join(tmp, stateFile), b); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := atomicfile.SyncDir(tmp); err != nil {
		return fmt.Errorf("train: %w", err)
	}

	final := filepath.Join(s.Dir, stepName(c.Step))
	if _, err := os.Stat(final); err == nil {
		// Saving the same step again: move the old copy aside first (a
		// rename cannot replace a non-empty folder).
		old, err := os.MkdirTemp(s.Dir, tmpPrefix+"old-*")
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if err := os.Rename(final, filepath.Join(old, "ckpt")); err != nil {
			return fmt.Errorf("train: replacing %s: %w", final, err)
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("train: publishing checkpoint %s: %w", final, err)
	}
	if err := atomicfile.SyncDir(s.Dir); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return s.prune(c.Step)
}

// Prepare makes sure Save will be able to write into Dir before a run
// spends time on its first steps: it creates Dir (syncing the folders that
// receive it), writes, syncs and removes a probe file, and removes the
// leftovers of an interrupted Save. Its error says why Dir is unusable.
func (s *Store) Prepare() error {
	if err := s.mkdir(); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.Dir, tmpPrefix+"probe-*")
	if err == nil {
		_, err = f.Write([]byte("genq"))
		err = errors.Join(err, f.Sync(), f.Close(), os.Remove(f.Name()))
	}
	if err != nil {
		return fmt.Errorf("train: the checkpoint folder %s is not writable: %w; choose a writable folder", s.Dir, err)
	}
	return s.removeTemps()
}

// mkdir creates Dir and its missing parents, syncing the folder that
// receives each new one, so that a synced checkpoint is not lost with its
// folder's name.
func (s *Store) mkdir() error {
	if err := atomicfile.MkdirAll(s.Dir); err != nil {
		return fmt.Errorf("train: the checkpoint folder %s cannot be created: %w; choose a writable folder", s.Dir, err)
	}
	return nil
}

// Load returns the latest complete checkpoint. A checkpoint folder that is
// incomplete or corrupt (missing files, checksum mismatch) is skipped in
// favour of the next older one, and named with its problem in the returned
// checkpoint's Skipped. It returns ErrNoCheckpoint when the folder
// does not exist or holds no checkpoint, and an error listing the problems
// when checkpoints exist but none can be read.
func (s *Store) Load() (*Checkpoint, error) {
	steps, err := s.steps()
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoCheckpoint
	}
	if err != nil {
		return nil, err
	}
	if len(steps) == 0 {
		return nil, ErrNoCheckpoint
	}
	var problems []string
	for i := len(steps) - 1; i >= 0; i-- {
		c, err := readCheckpoint(filepath.Join(s.Dir, stepName(steps[i])))
		if err == nil {
			c.Skipped = problems
			return c, nil
		}
		problems = append(problems, err.Error())
	}
	return nil, fmt.Errorf("train: no readable checkpoint in %s: %s", s.Dir, strings.Join(problems, "; "))
}

// readCheckpoint reads the checkpoint folder dir.
func readCheckpoint(dir string) (*Checkpoint, error) {
	files := map[string][]byte{}
	for _, name := range []string{stateFile, paramsFile, optimFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		files[name] = b
	}
	return parseCheckpoint(dir, files)
}

// parseCheckpoint decodes the files of one checkpoint folder (dir only names
// it in errors). Every size it allocates for comes from the files
// themselves, checked by checkpoint.ParseSafetensors against their lengths;
// the values state.json declares are checked against each other and the
// tensors before they are used.
func parseCheckpoint(dir string, files map[string][]byte) (*Checkpoint, error) {
	var st stateJSON
	if err := json.Unmarshal(files[stateFile], &st); err != nil {
		return nil, fmt.Errorf("%s: %s is not valid JSON: %v", dir, stateFile, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("%s: %s has version %d; this build reads version %d", dir, stateFile, st.Version, stateVersion)
	}
	if st.Step < 0 || st.Epoch < 0 || len(st.Losses) > st.Step {
		return nil, fmt.Errorf("%s: %s records step %d, epoch %d and %d losses; want step, epoch ≥ 0 and at most one loss per step (corrupt file)",
			dir, stateFile, st.Step, st.Epoch, len(st.Losses))
	}
	tensors := map[string]map[string]*checkpoint.Tensor{}
	for _, file := range []string{paramsFile, optimFile} {
		b := files[file]
		if got, want := sha256Hex(b), st.Files[file]; got != want {
			return nil, fmt.Errorf("%s: %s has SHA-256 %s but %s recorded %q (corrupt file)", dir, file, got, stateFile, want)
		}
		var err error
		if tensors[file], _, err = checkpoint.ParseSafetensors(b); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", dir, file, err)
		}
	}
	c := &Checkpoint{
		Step: st.Step, Epoch: st.Epoch, Batches: st.Batches, Losses: st.Losses, Extra: st.Extra,
		Params:    tensors[paramsFile],
		Optimizer: optim.State{Params: map[string]optim.ParamState{}},
	}
	moments := tensors[optimFile]
	for _, name := range slices.Sorted(maps.Keys(st.OptimizerSteps)) {
		m, v := moments["exp_avg."+name], moments["exp_avg_sq."+name]
		if m == nil || v == nil {
			return nil, fmt.Errorf("%s: %s lacks the moments of %q", dir, optimFile, name)
		}
		n := len(m.F32)
		if p := c.Params[name]; p != nil {
			n = len(p.F32)
		}
		if len(m.Shape) != 1 || len(v.Shape) != 1 || m.F32 == nil || v.F32 == nil || len(m.F32) != n || len(v.F32) != n {
			return nil, fmt.Errorf("%s: %s holds moments %v and %v for %q; want two float vectors of the parameter's %d values (corrupt file)",
				dir, optimFile, m, v, name, n)
		}
		c.Optimizer.Params[name] = optim.ParamState{Step: st.OptimizerSteps[name], ExpAvg: m.F32, ExpAvgSq: v.F32}
	}
	return c, nil
}

// steps lists the steps of the checkpoint folders in Dir, ascending.
func (s *Store) steps() ([]int, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, err
	}
	var steps []int
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), stepPrefix) {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), stepPrefix))
		if err != nil || n < 0 || stepName(n) != e.Name() {
			continue
		}
		steps = append(steps, n)
	}
	sort.Ints(steps)
	return steps, nil
}

// prune removes the checkpoints of steps after saved (a run that saved
// step saved went back to an older checkpoint: the later ones are damaged or
// abandoned), all but the Keep latest of the others, and every temporary
// folder left by an interrupted Save.
func (s *Store) prune(saved int) error {
	steps, err := s.steps()
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	keep := s.Keep
	if keep <= 0 {
		keep = 2
	}
	kept := 0
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] <= saved && kept < keep {
			kept++
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.Dir, stepName(steps[i]))); err != nil {
			return fmt.Errorf("train: removing an old checkpoint: %w", err)
		}
	}
	return s.removeTemps()
}

// removeTemps removes the temporary folders an interrupted Save left.
func (s *Store) removeTemps() error {
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if err := os.RemoveAll(filepath.Join(s.Dir, e.Name())); err != nil {
				return fmt.Errorf("train: removing a leftover temporary folder: %w", err)
			}
		}
	}
	return nil
}

func stepName(step int) string { return fmt.Sprintf("%s%09d", stepPrefix, step) }

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
