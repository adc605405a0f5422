package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traceSyncs records every file and folder synced while the test runs.
func traceSyncs(t *testing.T) *[]string {
	var synced []string
	SyncTrace = func(name string) { synced = append(synced, name) }
	t.Cleanup(func() { SyncTrace = nil })
	return &synced
}

// WriteSafetensors syncs the file and then the folder that names it, so a
// power loss after it returns cannot leave a torn or missing file.
func TestWriteSafetensorsSyncsFileAndFolder(t *testing.T) {
	synced := traceSyncs(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	require.NoError(t, WriteSafetensors(path, map[string]*Tensor{"w": {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}}}, nil))
	require.Len(t, *synced, 2, "syncs: %q", *synced)
	assert.True(t, IsTempOf(filepath.Base((*synced)[0]), "model.safetensors"), "first sync %q: the temporary file", (*synced)[0])
	assert.Equal(t, dir, (*synced)[1], "then the folder, after the rename")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}

func TestIsTempOf(t *testing.T) {
	for _, tc := range []struct {
		entry, name string
		want        bool
	}{
		{".model.tmp-123456", "model", true},
		{".model.tmp-", "model", false},
		{".model.tmp-x.tmp-12", "model", false}, // the temporary of "model.tmp-x", another name
		{".model.tmp-x.tmp-12", "model.tmp-x", true},
		{"model", "model", false},
		{".other.tmp-1", "model", false},
	} {
		assert.Equal(t, tc.want, IsTempOf(tc.entry, tc.name), "%q of %q", tc.entry, tc.name)
	}
}

// RemoveTemps removes the leftovers of interrupted writes of one name, files
// and folders, and nothing else.
func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	keep := []string{"model", ".model.tmp-x.tmp-1", "other"}
	for _, n := range keep {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".model.tmp-42"), nil, 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".model.tmp-7", "sub"), 0o755))
	require.NoError(t, RemoveTemps(dir, "model"))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.ElementsMatch(t, keep, got)
	assert.NoError(t, RemoveTemps(filepath.Join(dir, "missing"), "model"))
}
