package train

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/atomicfile"
	"github.com/genq-go/genq/internal/checkpoint"
)

// toyRun is a miniature fit loop: NoDuplicates batches, a gradient that
// depends on the batch, ClipGradNorm, WarmupLinear and AdamW — everything
// fit carries from step to step except the model.
type toyRun struct {
	data    [][]string
	batcher *NoDuplicates
	params  []*optim.Param
	opt     *optim.AdamW
	step    int
	seen    [][]int // batches used, in order
}

const toySteps = 25

func newToyRun(t testing.TB) *toyRun {
	t.Helper()
	r := &toyRun{data: pairs(30)}
	var err error
	r.batcher, err = NewNoDuplicates(r.data, 4, 17)
	require.NoError(t, err)
	init := rand.New(rand.NewPCG(5, 5))
	for _, name := range []string{"dense.weight", "dense.bias", "LayerNorm.weight"} {
		p := &optim.Param{Name: name, Data: make([]float32, 6)}
		for i := range p.Data {
			p.Data[i] = float32(init.NormFloat64())
		}
		r.params = append(r.params, p)
	}
	r.opt, err = optim.NewAdamW(optim.Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, optim.SplitDecay(r.params, 0.01)...)
	require.NoError(t, err)
	return r
}

func (r *toyRun) train(t testing.TB, until int) {
	t.Helper()
	for ; r.step < until; r.step++ {
		b, err := r.batcher.Next()
		require.NoError(t, err)
		r.seen = append(r.seen, b)
		var grads [][]float32
		for pi, p := range r.params {
			p.Grad = make([]float32, len(p.Data))
			for i := range p.Grad {
				for _, ex := range b {
					p.Grad[i] += float32(ex%7-3) * (p.Data[i] + float32(pi))
				}
			}
			grads = append(grads, p.Grad)
		}
		optim.ClipGradNorm(grads, 1)
		require.NoError(t, r.opt.Step(1e-2*optim.WarmupLinear(r.step, 3, toySteps)))
	}
}

func (r *toyRun) checkpoint() *Checkpoint {
	c := &Checkpoint{
		Step: r.step, Epoch: r.step / r.batcher.Len(), Batches: r.batcher.State(), Optimizer: r.opt.State(),
		Params: map[string]*checkpoint.Tensor{}, Extra: map[string]string{"config": "toy"},
		Losses: []float64{0.1, 1.0 / 3, 2e-300}[:min(r.step, 3)],
	}
	for _, p := range r.params {
		c.Params[p.Name] = &checkpoint.Tensor{DType: "F32", Shape: []int{2, 3}, F32: append([]float32(nil), p.Data...)}
	}
	return c
}

func (r *toyRun) restore(t *testing.T, c *Checkpoint) {
	t.Helper()
	r.step = c.Step
	require.NoError(t, r.batcher.SetState(c.Batches))
	require.NoError(t, r.opt.LoadState(c.Optimizer))
	for _, p := range r.params {
		w := c.Params[p.Name]
		require.NotNil(t, w, "checkpoint lacks %s", p.Name)
		require.Len(t, w.F32, len(p.Data), p.Name)
		copy(p.Data, w.F32)
	}
}

// TestStoreResumeIsExact interrupts a run at step 11 (after saving at step
// 10 and losing step 11's work), resumes from the store in a fresh process
// state and requires the very batches and bit-identical weights of the
// uninterrupted run: no step lost, none repeated.
func TestStoreResumeIsExact(t *testing.T) {
	full := newToyRun(t)
	full.train(t, toySteps)

	store := &Store{Dir: filepath.Join(t.TempDir(), "checkpoints")}
	first := newToyRun(t)
	for _, at := range []int{5, 10} {
		first.train(t, at)
		require.NoError(t, store.Save(first.checkpoint()))
	}
	first.train(t, 11) // work after the last save is lost in the "crash"

	resumed := newToyRun(t)
	c, err := store.Load()
	require.NoError(t, err)
	require.Equal(t, 10, c.Step)
	require.Equal(t, 10/first.batcher.Len(), c.Epoch)
	require.Equal(t, "toy", c.Extra["config"])
	require.Equal(t, []float64{0.1, 1.0 / 3, 2e-300}, c.Losses, "the loss history round-trips exactly")
	resumed.restore(t, c)
	resumed.train(t, toySteps)
	require.Equal(t, full.seen[10:], resumed.seen, "resumed batches")
	for i, p := range resumed.params {
		require.Equal(t, full.params[i].Data, p.Data, "%s after resume vs uninterrupted", p.Name)
	}
	require.Equal(t, full.opt.State(), resumed.opt.State(), "optimizer state after resume vs uninterrupted")
}

func TestStoreKeepsLatest(t *testing.T) {
	r := newToyRun(t)
	for _, keep := range []int{0, 1, 2} {
		dir := t.TempDir()
		store := &Store{Dir: dir, Keep: keep}
		for step := 1; step <= 4; step++ {
			c := r.checkpoint()
			c.Step = step
			require.NoError(t, store.Save(c))
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{"step-000000003", "step-000000004"} // the default keeps two
		if keep == 1 {
			want = []string{"step-000000004"}
		}
		assert.Equal(t, want, names, "Keep=%d", keep)
	}
}

// TestStoreSurvivesCrashMidWrite leaves behind what interrupted saves leave —
// a temporary folder with a partial file, a newer step folder without its
// state.json and one whose tensor file was truncated — and requires Load to
// return the last complete checkpoint and the next Save to clean up.
func TestStoreSurvivesCrashMidWrite(t *testing.T) {
	dir := t.TempDir()
	store := &Store{Dir: dir, Keep: 5}
	r := newToyRun(t)
	r.train(t, 3)
	require.NoError(t, store.Save(r.checkpoint()))
	want := r.checkpoint()

	tmp := filepath.Join(dir, ".tmp-step-123")
	must(t, os.MkdirAll(tmp, 0o755))
	must(t, os.WriteFile(filepath.Join(tmp, "params.safetensors"), []byte("partial"), 0o644))

	r.train(t, 5)
	must(t, store.Save(r.checkpoint()))
	must(t, os.Remove(filepath.Join(dir, "step-000000005", "state.json")))

	r.train(t, 7)
	must(t, store.Save(r.checkpoint()))
	p := filepath.Join(dir, "step-000000007", "optimizer.safetensors")
	b, err := os.ReadFile(p)
	must(t, err)
	must(t, os.WriteFile(p, b[:len(b)/2], 0o644))

	c, err := store.Load()
	require.NoError(t, err)
	require.Equal(t, 3, c.Step, "the last complete checkpoint")
	require.Equal(t, want.Batches, c.Batches)
	require.Equal(t, want.Optimizer, c.Optimizer)
	for name, w := range want.Params {
		require.Equal(t, w.F32, c.Params[name].F32, name)
		require.Equal(t, w.Shape, c.Params[name].Shape, name)
	}

	r.train(t, 8)
	must(t, store.Save(r.checkpoint()))
	_, err = os.Stat(tmp)
	assert.ErrorIs(t, err, os.ErrNotExist, "Save removes the leftover %s", tmp)
	c, err = store.Load()
	require.NoError(t, err)
	assert.Equal(t, 8, c.Step)
}

func TestStoreLoadErrors(t *testing.T) {
	_, err := (&Store{Dir: filepath.Join(t.TempDir(), "missing")}).Load()
	assert.ErrorIs(t, err, ErrNoCheckpoint, "missing folder")
	dir := t.TempDir()
	_, err = (&Store{Dir: dir}).Load()
	assert.ErrorIs(t, err, ErrNoCheckpoint, "empty folder")
	must(t, os.MkdirAll(filepath.Join(dir, "step-000000002"), 0o755))
	_, err = (&Store{Dir: dir}).Load()
	assert.ErrorContains(t, err, "no readable checkpoint", "only a broken checkpoint")
	assert.NotErrorIs(t, err, ErrNoCheckpoint, "only a broken checkpoint")
	assert.Error(t, (&Store{Dir: dir}).Save(nil), "Save(nil)")
}

func TestStoreSaveSameStepReplaces(t *testing.T) {
	dir := t.TempDir()
	store := &Store{Dir: dir}
	r := newToyRun(t)
	c := r.checkpoint()
	must(t, store.Save(c))
	c.Extra = map[string]string{"config": "second"}
	must(t, store.Save(c))
	got, err := store.Load()
	must(t, err)
	assert.Equal(t, "second", got.Extra["config"], "the second save wins")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1)
}

// TestStoreFallsBackToOlder: with the two latest checkpoints kept (the
// default), a corrupt latest one costs the steps since the older one, not
// the run: Load returns the older one and names the one it skipped and why.
// The next Save, of an earlier step than the damaged one, removes it.
func TestStoreFallsBackToOlder(t *testing.T) {
	dir := t.TempDir()
	store := &Store{Dir: dir}
	r := newToyRun(t)
	for _, at := range []int{2, 4, 6} {
		r.train(t, at)
		must(t, store.Save(r.checkpoint()))
	}
	p := filepath.Join(dir, "step-000000006", "params.safetensors")
	b, err := os.ReadFile(p)
	must(t, err)
	b[len(b)-1] ^= 1
	must(t, os.WriteFile(p, b, 0o644))

	c, err := store.Load()
	require.NoError(t, err)
	assert.Equal(t, 4, c.Step, "the older checkpoint")
	require.Len(t, c.Skipped, 1)
	assert.Contains(t, c.Skipped[0], "step-000000006")
	assert.Contains(t, c.Skipped[0], "params.safetensors has SHA-256")

	c.Step = 5
	must(t, store.Save(c))
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"step-000000004", "step-000000005"}, names, "the damaged step 6 is gone")
}

// TestStoreSaveSyncs: every file of a checkpoint and its folder are synced
// before the rename, and Dir after it.
func TestStoreSaveSyncs(t *testing.T) {
	var synced []string
	atomicfile.SyncTrace = func(name string) { synced = append(synced, name) }
	t.Cleanup(func() { atomicfile.SyncTrace = nil })
	dir := filepath.Join(t.TempDir(), "new", "checkpoints")
	must(t, (&Store{Dir: dir}).Save(newToyRun(t).checkpoint()))
	require.Len(t, synced, 7, "%q", synced)
	assert.Equal(t, []string{filepath.Dir(filepath.Dir(dir)), filepath.Dir(dir)}, synced[:2], "the folders that received new folders")
	var files []string
	for _, f := range synced[2:5] {
		files = append(files, filepath.Base(f))
	}
	assert.ElementsMatch(t, []string{"params.safetensors", "optimizer.safetensors", "state.json"}, files)
	assert.Equal(t, "state.json", files[2], "state.json, which names the others' checksums, last")
	assert.Equal(t, filepath.Dir(synced[2]), synced[5], "the checkpoint's folder")
	assert.Equal(t, dir, synced[6], "Dir, after the rename")
}

// TestStorePrepare: a checkpoint folder that cannot be written is found
// before training starts, with its reason; Prepare also removes what an
// interrupted Save left.
func TestStorePrepare(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o644))
	err := (&Store{Dir: filepath.Join(file, "checkpoints")}).Prepare()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot be created")
	assert.Contains(t, err.Error(), "choose a writable folder")

	dir := t.TempDir()
	left := filepath.Join(dir, ".tmp-step-77")
	must(t, os.MkdirAll(left, 0o755))
	must(t, (&Store{Dir: dir}).Prepare())
	assert.NoDirExists(t, left)
	if os.Geteuid() != 0 { // root writes into read-only folders
		must(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		err := (&Store{Dir: dir}).Prepare()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "is not writable")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	require.NoError(t, err)
}
