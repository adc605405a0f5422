package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTiny runs all with -tiny: the default models are replaced by the
// fixtures, found from the source file, and nothing is downloaded.
func TestTiny(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", t.TempDir())
	fixtures, err := fixturesDir()
	require.NoError(t, err)
	want, _ := filepath.Abs(fixture(""))
	got, _ := filepath.Abs(fixtures)
	assert.Equal(t, want, got, "fixturesDir()")

	dir := t.TempDir()
	stdout, stderr, err := invoke(context.Background(), t, &app{}, "all", "-tiny", "-out", dir, "-limit", "4",
		"-queries-per-passage", "1", "-batch", "4", "-epochs", "1", "-train-batch", "4", "-gpl-batch", "2", "-gpl-steps", "2", "-quiet")
	require.NoError(t, err, stderr)
	base := filepath.Join(fixtures, tinyBase)
	checkTable(t, stdout, []string{"base: " + base, "GenQ: " + filepath.Join(dir, modelFolder), "GPL: " + filepath.Join(dir, gplModelFolder)})
	for _, m := range []string{tinyGenerator, tinyRetriever2, tinyCrossEncoder} {
		assert.Contains(t, stderr, filepath.Join(fixtures, m), "stderr names the tiny %s", m)
	}
	// -tiny says plainly what its numbers are worth, when it starts and
	// under its table.
	assert.Contains(t, stderr, "check the plumbing of every step, not quality")
	assert.Contains(t, stdout, tinyCaveat)

	// A model given explicitly wins over -tiny.
	_, stderr, err = invoke(context.Background(), t, &app{}, "eval", "-tiny", "-out", dir, "-models", "base", "-base", "my/model")
	assert.ErrorContains(t, err, `"my/model" (-base)`, "eval -tiny -base my/model\n%s", stderr)
}

// TestWrongKind checks that a model folder of the wrong kind is refused with
// an error that names the folder and what it is.
func TestWrongKind(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	t5, bert := fixture("t5-tiny"), fixture("distilbert-tiny")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, queriesFile), []byte("q1\tp1\nq2\tp2\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"T5 as -base", []string{"train", "-out", dir, "-base", t5, "-train-batch", "2"}, []string{"-base " + t5, "not a bi-encoder"}},
		{"T5 as -model", []string{"search", "-out", dir, "-model", t5, "-q", "x"}, []string{"-model " + t5, "not a bi-encoder"}},
		{"T5 in -models", []string{"eval", "-out", dir, "-models", t5}, []string{"-models " + t5, "not a bi-encoder"}},
		{"bi-encoder as -generator", []string{"generate", "-out", t.TempDir(), "-generator", bert, "-limit", "1"},
			[]string{"-generator " + bert, "not a T5 query generator", `"distilbert"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := invoke(context.Background(), t, &app{}, tc.args...)
			for _, w := range tc.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

// TestNotCached checks the message for a default model that is neither
// cached nor downloadable: it names the model and both ways out.
func TestNotCached(t *testing.T) {
	_, srv := newFakeHub(t, nil) // knows no repository: every download fails
	for _, tc := range []struct{ offline, why string }{
		{"1", "HF_HUB_OFFLINE is set"},
		{"", "the download failed"},
	} {
		t.Run("HF_HUB_OFFLINE="+tc.offline, func(t *testing.T) {
			t.Setenv("HF_HUB_OFFLINE", tc.offline)
			t.Setenv("HF_ENDPOINT", srv.URL)
			t.Setenv("HF_HUB_CACHE", t.TempDir())
			_, _, err := invoke(context.Background(), t, &app{}, "eval", "-out", t.TempDir(), "-models", "base")
			for _, w := range []string{"distilbert-base-uncased: it is not in the Hugging Face cache and " + tc.why,
				"huggingface-cli download distilbert-base-uncased", "-tiny", "local model folder with -base"} {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

// TestFixturesMissing checks the error of -tiny outside a checkout, and that
// the module root is found from the working directory.
func TestFixturesMissing(t *testing.T) {
	_, err := findFixtures(filepath.Join(t.TempDir(), "a", "b", "tiny.go"), t.TempDir())
	for _, w := range []string{"-tiny needs", "testdata/fixtures/t5-tiny", "run from inside a checkout", "-generator and -base"} {
		assert.ErrorContains(t, err, w)
	}
	wd, _ := os.Getwd()
	got, err := findFixtures("", wd)
	want, _ := filepath.Abs(fixture(""))
	require.NoError(t, err, "findFixtures from %s", wd)
	assert.Equal(t, want, got, "findFixtures from %s", wd)
}
