package checkpoint

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/atomicfile"
)

// traceSyncs records every file and folder synced while the test runs.
func traceSyncs(t *testing.T) *[]string {
	var synced []string
	atomicfile.SyncTrace = func(name string) { synced = append(synced, name) }
	t.Cleanup(func() { atomicfile.SyncTrace = nil })
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
	assert.True(t, atomicfile.IsTempOf(filepath.Base((*synced)[0]), "model.safetensors"), "first sync %q: the temporary file", (*synced)[0])
	assert.Equal(t, dir, (*synced)[1], "then the folder, after the rename")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")
}
