package encoder

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/atomicfile"
	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSave saves each fixture model and checks the folder file by file
// against the fixture, which SentenceTransformer.save wrote: JSON files have
// the same keys and values, the model card and tokenizer files are
// byte-identical, model.safetensors holds the same names, shapes and bits;
// Load reads the weights back bit-identical. Saving again over the folder
// works too.
func TestSave(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			src := testutil.Fixture(name)
			m, err := Load(t.Context(), src, LoadOptions{})
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "saved")
			require.NoError(t, m.Save(dir))
			for _, f := range []string{"modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
				"1_Pooling/config.json", "config.json", "tokenizer_config.json", "special_tokens_map.json"} {
				var got, want any
				require.NoError(t, testutil.ReadJSON(filepath.Join(dir, f), &got), "saved %s", f)
				require.NoError(t, testutil.ReadJSON(filepath.Join(src, f), &want), "fixture's %s", f)
				assert.Equal(t, want, got, "%s differs", f)
			}
			for _, f := range []string{"README.md", "vocab.txt", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"} {
				got, _ := os.ReadFile(filepath.Join(dir, f))
				want, _ := os.ReadFile(filepath.Join(src, f))
				assert.True(t, bytes.Equal(got, want), "%s is not byte-identical to the fixture's", f)
			}
			got, err := checkpoint.ReadSafetensors(filepath.Join(dir, "model.safetensors"))
			require.NoError(t, err)
			want, err := checkpoint.ReadSafetensors(filepath.Join(src, "model.safetensors"))
			require.NoError(t, err)
			assert.Len(t, got, len(want), "tensors saved vs the fixture's")
			for n, w := range want {
				g, ok := got[n]
				assert.True(t, ok && slices.Equal(g.Shape, w.Shape) && bitsEqual(g.F32, w.F32), "model.safetensors: tensor %s missing or different", n)
			}
			back, err := Load(t.Context(), dir, LoadOptions{})
			require.NoError(t, err)
			assertSameWeights(t, back, m)
			require.NoError(t, back.Save(dir), "saving over an existing folder")
			entries, _ := os.ReadDir(filepath.Dir(dir))
			assert.Len(t, entries, 1, "Save left entries next to the folder")
		})
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// assertSameWeights checks that two models hold bit-identical weights.
func assertSameWeights(t *testing.T, got, want *Model) {
	t.Helper()
	gp, wp := append(got.body.params(), got.body.extras()...), append(want.body.params(), want.body.extras()...)
	require.Len(t, gp, len(wp), "weights")
	for i := range wp {
		assert.True(t, gp[i].name == wp[i].name && bitsEqual(gp[i].data(), wp[i].data()), "weight %s differs", wp[i].name)
	}
}

// traceSyncs records every file and folder the checkpoint writers sync while
// the test runs, by the name it ends up with: a temporary ".<name>.tmp-<n>"
// path component counts as <name>.
func traceSyncs(t *testing.T) map[string]bool {
	synced := map[string]bool{}
	tmp := regexp.MustCompile(`^\.(.+)\.tmp-[0-9]+$`)
	atomicfile.SyncTrace = func(name string) {
		parts := strings.Split(filepath.Clean(name), string(filepath.Separator))
		for i, p := range parts {
			parts[i] = tmp.ReplaceAllString(p, "$1")
		}
		synced[strings.Join(parts, string(filepath.Separator))] = true
	}
	t.Cleanup(func() { atomicfile.SyncTrace = nil })
	return synced
}

// TestSaveDurable: Save syncs every file it writes and every folder that
// names one (a new folder's content before its rename, the parent after
// it), so that a power loss after Save returns cannot leave a torn
// model.safetensors under an intact folder. Saving over the folder syncs the
// new files and their folders too.
func TestSaveDurable(t *testing.T) {
	m := loadFixture(t, fixtures[0])
	parent := t.TempDir()
	dir := filepath.Join(parent, "saved")
	for _, over := range []bool{false, true} {
		synced := traceSyncs(t)
		require.NoError(t, m.Save(dir), "over an existing folder: %v", over)
		files := 0
		require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			require.NoError(t, err)
			files++
			assert.True(t, synced[path], "%s not synced (over an existing folder: %v)", path, over)
			return nil
		}))
		assert.Greater(t, files, 5)
		if !over {
			assert.True(t, synced[parent], "the parent folder was not synced after the rename")
		}
	}
}

// TestSaveRemovesLeftovers: a Save that crashed leaves a hidden
// ".<dir>.tmp-<digits>" folder beside the model (writing a new one) or
// ".<file>.tmp-<digits>" files in it (writing over one); the next Save
// removes them, and nothing that is not its own.
func TestSaveRemovesLeftovers(t *testing.T) {
	m := loadFixture(t, fixtures[0])
	parent := t.TempDir()
	dir := filepath.Join(parent, "saved")
	crashed := filepath.Join(parent, ".saved.tmp-123456")
	require.NoError(t, os.MkdirAll(filepath.Join(crashed, "1_Pooling"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(crashed, "model.safetensors"), []byte("torn"), 0o644))
	other := filepath.Join(parent, ".other.tmp-1")
	require.NoError(t, os.Mkdir(other, 0o755))
	require.NoError(t, m.Save(dir))
	assert.NoDirExists(t, crashed)
	assert.DirExists(t, other, "another name's folder")

	torn := []string{filepath.Join(dir, ".model.safetensors.tmp-99"), filepath.Join(dir, "1_Pooling", ".config.json.tmp-5")}
	for _, f := range torn {
		require.NoError(t, os.WriteFile(f, []byte("torn"), 0o644))
	}
	require.NoError(t, m.Save(dir))
	for _, f := range torn {
		assert.NoFileExists(t, f)
	}
}
