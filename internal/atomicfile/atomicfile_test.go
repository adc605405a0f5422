package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))

	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "partial")
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(got), "a failed write leaves the file as it was")

	require.NoError(t, Write(path, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}))
	got, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
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

// TestWriteSyncs: Write syncs the temporary file before its rename and the
// folder after it, so that a power loss after Write returns keeps the new
// file (it used to sync the file only: the rename could be lost).
func TestWriteSyncs(t *testing.T) {
	var synced []string
	SyncTrace = func(name string) { synced = append(synced, name) }
	t.Cleanup(func() { SyncTrace = nil })
	dir := t.TempDir()
	require.NoError(t, Write(filepath.Join(dir, "f"), func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}))
	require.Len(t, synced, 2, "%q", synced)
	assert.True(t, IsTempOf(filepath.Base(synced[0]), "f"), "first the temporary file, got %q", synced[0])
	assert.Equal(t, dir, synced[1], "then the folder")
}

// TestMkdirAll: each new folder is synced into its parent.
func TestMkdirAll(t *testing.T) {
	var synced []string
	SyncTrace = func(name string) { synced = append(synced, name) }
	t.Cleanup(func() { SyncTrace = nil })
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	require.NoError(t, MkdirAll(dir))
	assert.DirExists(t, dir)
	assert.Equal(t, []string{root, filepath.Join(root, "a")}, synced)
	synced = nil
	require.NoError(t, MkdirAll(dir))
	assert.Empty(t, synced, "nothing to create")
	file := filepath.Join(root, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	assert.Error(t, MkdirAll(filepath.Join(file, "x")))
}
