package train

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder/optim"
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

func newToyRun(t *testing.T) *toyRun {
	t.Helper()
	r := &toyRun{data: pairs(30)}
	var err error
	if r.batcher, err = NewNoDuplicates(r.data, 4, 17); err != nil {
		t.Fatal(err)
	}
	init := rand.New(rand.NewPCG(5, 5))
	for _, name := range []string{"dense.weight", "dense.bias", "LayerNorm.weight"} {
		p := &optim.Param{Name: name, Data: make([]float32, 6)}
		for i := range p.Data {
			p.Data[i] = float32(init.NormFloat64())
		}
		r.params = append(r.params, p)
	}
	if r.opt, err = optim.NewAdamW(optim.Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}, optim.SplitDecay(r.params, 0.01)...); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *toyRun) train(t *testing.T, until int) {
	t.Helper()
	for ; r.step < until; r.step++ {
		b, err := r.batcher.Next()
		if err != nil {
			t.Fatal(err)
		}
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
		if err := r.opt.Step(1e-2 * optim.WarmupLinear(r.step, 3, toySteps)); err != nil {
			t.Fatal(err)
		}
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
	if err := r.batcher.SetState(c.Batches); err != nil {
		t.Fatal(err)
	}
	if err := r.opt.LoadState(c.Optimizer); err != nil {
		t.Fatal(err)
	}
	for _, p := range r.params {
		w := c.Params[p.Name]
		if w == nil || len(w.F32) != len(p.Data) {
			t.Fatalf("checkpoint lacks %s", p.Name)
		}
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
		if err := store.Save(first.checkpoint()); err != nil {
			t.Fatal(err)
		}
	}
	first.train(t, 11) // work after the last save is lost in the "crash"

	resumed := newToyRun(t)
	c, err := store.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != 10 || c.Epoch != 10/first.batcher.Len() || c.Extra["config"] != "toy" {
		t.Fatalf("loaded step %d epoch %d extra %v", c.Step, c.Epoch, c.Extra)
	}
	require.Equal(t, []float64{0.1, 1.0 / 3, 2e-300}, c.Losses, "the loss history round-trips exactly")
	resumed.restore(t, c)
	resumed.train(t, toySteps)
	if !reflect.DeepEqual(resumed.seen, full.seen[10:]) {
		t.Fatalf("resumed batches %v, want %v", resumed.seen, full.seen[10:])
	}
	for i, p := range resumed.params {
		if !reflect.DeepEqual(p.Data, full.params[i].Data) {
			t.Fatalf("%s after resume %v, uninterrupted %v", p.Name, p.Data, full.params[i].Data)
		}
	}
	if !reflect.DeepEqual(resumed.opt.State(), full.opt.State()) {
		t.Fatal("optimizer state after resume differs from the uninterrupted run")
	}
}

func TestStoreKeepsLatest(t *testing.T) {
	r := newToyRun(t)
	for _, keep := range []int{0, 2} {
		dir := t.TempDir()
		store := &Store{Dir: dir, Keep: keep}
		for step := 1; step <= 4; step++ {
			c := r.checkpoint()
			c.Step = step
			if err := store.Save(c); err != nil {
				t.Fatal(err)
			}
		}
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		want := []string{"step-000000004"}
		if keep == 2 {
			want = []string{"step-000000003", "step-000000004"}
		}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("Keep=%d: folder holds %v, want %v", keep, names, want)
		}
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
	if err := store.Save(r.checkpoint()); err != nil {
		t.Fatal(err)
	}
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
	if err != nil {
		t.Fatal(err)
	}
	if c.Step != 3 {
		t.Fatalf("loaded step %d, want 3 (the last complete checkpoint)", c.Step)
	}
	if !reflect.DeepEqual(c.Batches, want.Batches) || !reflect.DeepEqual(c.Optimizer, want.Optimizer) {
		t.Fatal("loaded state differs from the saved one")
	}
	for name, w := range want.Params {
		if !reflect.DeepEqual(c.Params[name].F32, w.F32) || !reflect.DeepEqual(c.Params[name].Shape, w.Shape) {
			t.Fatalf("parameter %s differs after the round trip", name)
		}
	}

	r.train(t, 8)
	must(t, store.Save(r.checkpoint()))
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leftover %s not removed by Save (%v)", tmp, err)
	}
	if c, err := store.Load(); err != nil || c.Step != 8 {
		t.Fatalf("after a new save: step %v, error %v", c, err)
	}
}

func TestStoreLoadErrors(t *testing.T) {
	if _, err := (&Store{Dir: filepath.Join(t.TempDir(), "missing")}).Load(); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("missing folder: %v, want ErrNoCheckpoint", err)
	}
	dir := t.TempDir()
	if _, err := (&Store{Dir: dir}).Load(); !errors.Is(err, ErrNoCheckpoint) {
		t.Errorf("empty folder: %v, want ErrNoCheckpoint", err)
	}
	must(t, os.MkdirAll(filepath.Join(dir, "step-000000002"), 0o755))
	_, err := (&Store{Dir: dir}).Load()
	if err == nil || errors.Is(err, ErrNoCheckpoint) || !strings.Contains(err.Error(), "no readable checkpoint") {
		t.Errorf("only a broken checkpoint: %v", err)
	}
	if err := (&Store{Dir: dir}).Save(nil); err == nil {
		t.Error("Save(nil) accepted")
	}
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
	if got.Extra["config"] != "second" {
		t.Fatalf("extra %v, want the second save", got.Extra)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want 1", len(entries))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
