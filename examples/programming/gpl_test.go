package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder"
)

// gplArgs are the gpl flags of the test run on the tiny fixtures, writing
// into out.
func gplArgs(out string) []string {
	return []string{"gpl", "-out", out, "-base", fixture("distilbert-tiny"),
		"-retrievers", fixture("distilbert-tiny") + "," + fixture("bert-tiny"), "-cross-encoder", fixture("cross-encoder-tiny"),
		"-gpl-batch", "4", "-gpl-steps", "5", "-checkpoint-every", "2", "-seed", "7", "-quiet"}
}

// TestGPL runs the gpl step on generated queries: labelled triples on disk
// (query, its passage, another passage, a finite margin), a model trained
// with MarginMSE, a second run that reuses both, an interrupted run that
// resumes to the same model, new labels for new settings, and eval's GPL row.
func TestGPL(t *testing.T) {
	t.Setenv("HF_HUB_OFFLINE", "1")
	ctx := context.Background()
	dir := t.TempDir()
	_, stderr, err := invoke(ctx, t, &app{}, generateArgs(dir)...)
	require.NoError(t, err, stderr)
	pairs, _ := os.ReadFile(filepath.Join(dir, queriesFile))
	passageOf := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(string(pairs), "\n"), "\n") {
		f := strings.Split(l, "\t")
		passageOf[f[0]] = f[1]
	}

	_, stderr, err = invoke(ctx, t, &app{}, gplArgs(dir)...)
	require.NoError(t, err, stderr)
	model := filepath.Join(dir, gplModelFolder)
	assert.Contains(t, stderr, "5 training steps → "+model)
	data, err := os.ReadFile(filepath.Join(dir, gplDataFile))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 5*4, "lines of %s: steps × batch", gplDataFile)
	for i, l := range lines {
		f := strings.Split(l, "\t")
		require.Len(t, f, 4, "line %d", i+1)
		assert.Equal(t, passageOf[f[0]], f[1], "line %d: the positive is the query's passage", i+1)
		assert.NotEqual(t, f[1], f[2], "line %d: the negative is another passage", i+1)
		_, err := strconv.ParseFloat(f[3], 64)
		assert.NoError(t, err, "line %d: margin", i+1)
	}
	m, err := encoder.Load(ctx, model, encoder.LoadOptions{})
	require.NoError(t, err, "the GPL model does not load")
	base, err := encoder.Load(ctx, fixture("distilbert-tiny"), encoder.LoadOptions{})
	require.NoError(t, err)
	texts := []string{"a query", lines[0]}
	e1, _ := m.Encode(ctx, texts)
	e0, _ := base.Encode(ctx, texts)
	assert.NotEqual(t, e0, e1, "GPL training left the embeddings unchanged")
	_, err = os.Stat(filepath.Join(dir, gplCheckpointsDir))
	assert.ErrorIs(t, err, fs.ErrNotExist, "the checkpoints folder is still there after training")

	_, stderr, err = invoke(ctx, t, &app{}, gplArgs(dir)...)
	require.NoError(t, err, "gpl again")
	assert.Contains(t, stderr, "already holds the 20 labelled triples", "gpl again labels again")
	assert.Contains(t, stderr, "already trained", "gpl again trains again")

	t.Run("resumes an interrupted run", func(t *testing.T) {
		other := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(other, queriesFile), pairs, 0o644))
		args := append(gplArgs(""), "-out", other)
		// Ctrl-C part way: ctx reports cancellation from its 33rd check on
		// (of 36 in the whole run), after the labelled data is written,
		// during training.
		stop := &countdown{Context: ctx}
		stop.left.Store(32)
		_, stderr, err := invoke(stop, t, &app{}, args...)
		require.ErrorIs(t, err, context.Canceled, "interrupted gpl\n%s", stderr)
		require.FileExists(t, filepath.Join(other, gplRecordFile), "interrupted before the labels were written")
		entries, _ := os.ReadDir(filepath.Join(other, gplCheckpointsDir))
		require.GreaterOrEqual(t, len(entries), 2, "the interrupted run wrote no checkpoint besides %s: %v", trainingFile, entries)
		_, err = os.Stat(filepath.Join(other, gplModelFolder))
		require.ErrorIs(t, err, fs.ErrNotExist, "the interrupted run saved a model")
		_, stderr, err = invoke(ctx, t, &app{}, args...)
		require.NoError(t, err, "resumed gpl\n%s", stderr)
		assert.Contains(t, stderr, "already holds the 20 labelled triples", "the resumed run labels again")
		resumed, err := encoder.Load(ctx, filepath.Join(other, gplModelFolder), encoder.LoadOptions{})
		require.NoError(t, err)
		e2, _ := resumed.Encode(ctx, texts)
		assert.Equal(t, e1, e2, "the resumed run's model differs from the straight run's")
	})

	t.Run("new settings label again", func(t *testing.T) {
		other := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(other, queriesFile), pairs, 0o644))
		args := append(gplArgs(""), "-out", other, "-gpl-steps", "1")
		_, stderr, err := invoke(ctx, t, &app{}, args...)
		require.NoError(t, err, stderr)
		_, stderr, err = invoke(ctx, t, &app{}, append(args, "-negatives", "3")...)
		assert.ErrorContains(t, err, "-overwrite", "a model trained on other labels is kept unless -overwrite")
		assert.Contains(t, stderr, "labelling again", "new -negatives")
		_, stderr, err = invoke(ctx, t, &app{}, append(args, "-negatives", "3", "-overwrite")...)
		require.NoError(t, err, stderr)
	})

	t.Run("eval has a GPL row", func(t *testing.T) {
		stdout, stderr, err := invoke(ctx, t, &app{}, "eval", "-out", dir, "-base", fixture("distilbert-tiny"), "-models", "base,gpl", "-quiet")
		require.NoError(t, err, stderr)
		checkTable(t, stdout, []string{"base: " + fixture("distilbert-tiny"), "GPL: " + model})
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"bi-encoder as cross-encoder", []string{"-cross-encoder", fixture("distilbert-tiny")}, "-cross-encoder " + fixture("distilbert-tiny") + " is not a cross-encoder"},
		{"T5 as cross-encoder", []string{"-cross-encoder", fixture("t5-tiny")}, "not a cross-encoder: -cross-encoder takes"},
		{"cross-encoder as retriever", []string{"-retrievers", fixture("cross-encoder-tiny")}, "-retrievers " + fixture("cross-encoder-tiny") + " is a cross-encoder"},
		{"batch larger than the queries", []string{"-gpl-batch", "1000"}, "fewer than a GPL batch of -gpl-batch 1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(out, queriesFile), pairs, 0o644))
			args := append(gplArgs(""), append([]string{"-out", out}, tc.args...)...)
			_, _, err := invoke(ctx, t, &app{}, args...)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	_, _, err = invoke(ctx, t, &app{}, "gpl", "-out", t.TempDir(), "-quiet")
	assert.ErrorContains(t, err, "run the generate subcommand first", "gpl before generate")
}
