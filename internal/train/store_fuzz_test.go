package train

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
)

// toyFiles returns the files Save writes for the toy run at step 5, with the
// SHA-256s in state.json replaced by the placeholders "@params" and "@optim"
// (see withHashes).
func toyFiles(t testing.TB) map[string][]byte {
	r := newToyRun(t)
	r.train(t, 5)
	dir := t.TempDir()
	require.NoError(t, (&Store{Dir: dir}).Save(r.checkpoint()))
	files := map[string][]byte{}
	for _, name := range []string{stateFile, paramsFile, optimFile} {
		b, err := os.ReadFile(filepath.Join(dir, stepName(5), name))
		require.NoError(t, err)
		files[name] = b
	}
	files[stateFile] = bytes.ReplaceAll(files[stateFile], []byte(sha256Hex(files[paramsFile])), []byte("@params"))
	files[stateFile] = bytes.ReplaceAll(files[stateFile], []byte(sha256Hex(files[optimFile])), []byte("@optim"))
	return files
}

// withHashes returns a copy of files whose state.json records the SHA-256s
// of the tensor files in place of the placeholders, so that edited tensor
// files reach the parser instead of failing the checksum.
func withHashes(files map[string][]byte) map[string][]byte {
	out := map[string][]byte{paramsFile: files[paramsFile], optimFile: files[optimFile]}
	st := bytes.ReplaceAll(files[stateFile], []byte("@params"), []byte(sha256Hex(files[paramsFile])))
	out[stateFile] = bytes.ReplaceAll(st, []byte("@optim"), []byte(sha256Hex(files[optimFile])))
	return out
}

// editState returns files with state.json decoded, edited and re-encoded.
func editState(t *testing.T, files map[string][]byte, edit func(st *stateJSON)) map[string][]byte {
	var st stateJSON
	require.NoError(t, json.Unmarshal(files[stateFile], &st))
	edit(&st)
	b, err := json.Marshal(st)
	require.NoError(t, err)
	out := map[string][]byte{stateFile: b, paramsFile: files[paramsFile], optimFile: files[optimFile]}
	return out
}

// TestStoreRejectsBadState: values state.json declares are checked against
// each other and the tensor files, never trusted.
func TestStoreRejectsBadState(t *testing.T) {
	files := toyFiles(t)
	c, err := parseCheckpoint("step", withHashes(files))
	require.NoError(t, err, "the untouched files")
	require.Equal(t, 5, c.Step)
	shortMoments, err := checkpoint.MarshalSafetensors(map[string]*checkpoint.Tensor{
		"exp_avg.dense.weight":    {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}},
		"exp_avg_sq.dense.weight": {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}},
	}, nil)
	require.NoError(t, err)
	intMoments, err := checkpoint.MarshalSafetensors(map[string]*checkpoint.Tensor{
		"exp_avg.dense.weight":    {DType: "I64", Shape: []int{6}, I64: make([]int64, 6)},
		"exp_avg_sq.dense.weight": {DType: "F32", Shape: []int{6}, F32: make([]float32, 6)},
	}, nil)
	require.NoError(t, err)
	onlyDense := editState(t, files, func(st *stateJSON) { st.OptimizerSteps = map[string]int64{"dense.weight": 5} })
	tests := []struct {
		name  string
		files map[string][]byte
		want  string
	}{
		{"negative step", editState(t, files, func(st *stateJSON) { st.Step = -1 }), "records step -1"},
		{"negative epoch", editState(t, files, func(st *stateJSON) { st.Epoch = -3 }), "epoch -3"},
		{"more losses than steps", editState(t, files, func(st *stateJSON) { st.Step = 2 }), "step 2, epoch 0 and 3 losses"},
		{"moments shorter than the parameter",
			map[string][]byte{stateFile: onlyDense[stateFile], paramsFile: files[paramsFile], optimFile: shortMoments},
			`moments F32[2] and F32[2] for "dense.weight"; want two float vectors of the parameter's 6 values`},
		{"integer moments",
			map[string][]byte{stateFile: onlyDense[stateFile], paramsFile: files[paramsFile], optimFile: intMoments},
			`moments I64[6] and F32[6] for "dense.weight"`},
		{"moments missing", editState(t, files, func(st *stateJSON) { st.OptimizerSteps["encoder.extra"] = 3 }), `lacks the moments of "encoder.extra"`},
		{"checksum", editState(t, files, func(st *stateJSON) { st.Files[paramsFile] = "00" }), `recorded "00" (corrupt file)`},
		{"not JSON", map[string][]byte{stateFile: []byte("{")}, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCheckpoint("step", withHashes(tc.files))
			require.ErrorContains(t, err, tc.want, "parsed %+v", c)
		})
	}
}

// FuzzCheckpointState feeds arbitrary state.json, params and optimizer files
// to the checkpoint reader (with state.json's "@params" and "@optim" standing
// for the files' SHA-256s, so mutated tensor files reach the parser): it
// must return an error or a checkpoint whose moments match, never panic.
// Inputs are capped at 64 KiB in all.
func FuzzCheckpointState(f *testing.F) {
	files := toyFiles(f)
	f.Add(files[stateFile], files[paramsFile], files[optimFile])
	f.Add([]byte(`{"version":1,"step":0,"files":{"params.safetensors":"@params","optimizer.safetensors":"@optim"}}`), []byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"), []byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Add([]byte(`{"version":1,"step":9,"optimizer_steps":{"w":1},"files":{"params.safetensors":"@params","optimizer.safetensors":"@optim"}}`),
		files[paramsFile], []byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, state, params, optimizer []byte) {
		if len(state)+len(params)+len(optimizer) > 1<<16 {
			return
		}
		c, err := parseCheckpoint("fuzz", withHashes(map[string][]byte{stateFile: state, paramsFile: params, optimFile: optimizer}))
		if err != nil {
			return
		}
		require.GreaterOrEqual(t, c.Step, 0)
		require.LessOrEqual(t, len(c.Losses), c.Step)
		for name, ps := range c.Optimizer.Params {
			require.Len(t, ps.ExpAvgSq, len(ps.ExpAvg), name)
		}
	})
}
