package tokenutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadConfigFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), []byte(`{"unk_token": "<unk>"}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "added_tokens.json"), []byte(`{`), 0o644))
	files, err := ReadConfigFiles(dir)
	require.NoError(t, err)
	for i, name := range ConfigNames {
		assert.Equal(t, filepath.Join(dir, name), files[i].Path)
	}

	v := map[string]string{"kept": "yes"}
	ok, err := files[0].Decode(&v)
	assert.False(t, ok, "tokenizer_config.json is absent")
	assert.NoError(t, err)
	assert.Equal(t, map[string]string{"kept": "yes"}, v, "an absent file leaves v untouched")

	ok, err = files[1].Decode(&v)
	assert.True(t, ok)
	assert.NoError(t, err)
	assert.Equal(t, "<unk>", v["unk_token"])

	ok, err = files[2].Decode(&v)
	assert.True(t, ok)
	assert.ErrorContains(t, err, files[2].Path+": unexpected end of JSON input")

	_, err = ReadConfigFiles(filepath.Join(dir, "added_tokens.json")) // not a folder
	assert.ErrorContains(t, err, filepath.Join(dir, "added_tokens.json", "tokenizer_config.json"), "a read error names the file")
}
