package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/t5"
)

// TestStageModel copies the tiny checkpoints into an in-memory Beam
// filesystem (standing in for a bucket) and loads them through stageModel,
// subfolders included (distilbert-tiny's 1_Pooling).
func TestStageModel(t *testing.T) {
	ctx := context.Background()
	c := testConfig(t)
	put := func(src, dst string) {
		require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			memfs.Write(dst+"/"+filepath.ToSlash(rel), b)
			return nil
		}))
	}
	put(c.Generator, "memfs://bucket/t5")
	put(c.Encoder, "memfs://bucket/enc")

	dir, cleanup, err := stageModel(ctx, "memfs://bucket/t5")
	require.NoError(t, err)
	_, err = t5.Load(ctx, dir, t5.LoadOptions{})
	require.NoError(t, err)
	cleanup()
	require.NoDirExists(t, dir)

	dir, cleanup, err = stageModel(ctx, "memfs://bucket/enc/")
	require.NoError(t, err)
	defer cleanup()
	require.FileExists(t, filepath.Join(dir, "1_Pooling", "config.json"))
	_, err = encoder.Load(ctx, dir, encoder.LoadOptions{})
	require.NoError(t, err)

	_, _, err = stageModel(ctx, "memfs://bucket/none")
	require.ErrorContains(t, err, "holds no files")

	dir, _, err = stageModel(ctx, c.Generator)
	require.NoError(t, err)
	require.Equal(t, c.Generator, dir, "a local folder is used in place")
}

// TestWriteFile writes through both paths of writeFile: a local file
// (replaced whole, no temporary left) and a filesystem object.
func TestWriteFile(t *testing.T) {
	ctx := context.Background()
	name := filepath.Join(t.TempDir(), "sub", "f.txt")
	for _, data := range []string{"first", "second"} {
		require.NoError(t, writeFile(ctx, name, []byte(data)))
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		require.Equal(t, data, string(b))
	}
	entries, err := os.ReadDir(filepath.Dir(name))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")

	require.NoError(t, writeFile(ctx, "memfs://out/f.txt", []byte("object")))
	r, err := openRead(ctx, "memfs://out/f.txt")
	require.NoError(t, err)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.Equal(t, "object", string(b))
	fs, err := filesystem.New(ctx, "memfs://out/")
	require.NoError(t, err)
	files, err := listFiles(ctx, "memfs://out/*")
	require.NoError(t, err)
	require.Equal(t, []string{"memfs://out/f.txt"}, files)
	require.NoError(t, fs.Close())
	_, err = listFiles(ctx, "memfs://nothing/*")
	require.ErrorContains(t, err, "no file matches")
}

// TestCheckPositions covers the writers' check that every passage came
// out once.
func TestCheckPositions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first int
		pos   []int
		want  string
	}{
		{"complete", 0, []int{0, 1, 2}, ""},
		{"complete from 10", 10, []int{10, 11}, ""},
		{"duplicate", 0, []int{0, 1, 1, 2}, "position 1 came out twice"},
		{"gap", 5, []int{5, 7}, "position 6 is missing"},
		{"first missing", 5, []int{6, 7}, "position 5 is missing"},
		{"empty", 0, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPositions(tc.first, len(tc.pos), func(i int) int { return tc.pos[i] })
			if tc.want == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tc.want)
			}
		})
	}
}

// TestParseFlags covers the command line: the subcommand before or after
// the flags, -tiny's checkpoints, and the errors.
func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		cmd     string
		wantErr string
		check   func(*testing.T, Config)
	}{
		{name: "default", args: nil, cmd: "generate"},
		{name: "encode first", args: []string{"encode", "-tiny", "-shard-rows", "7"}, cmd: "encode",
			check: func(t *testing.T, c Config) {
				require.Equal(t, 7, c.ShardRows)
				require.Equal(t, "distilbert-tiny", filepath.Base(c.Encoder))
			}},
		{name: "encode last", args: []string{"-workers", "3", "encode"}, cmd: "encode",
			check: func(t *testing.T, c Config) { require.Equal(t, 3, c.Workers) }},
		{name: "tiny keeps an explicit generator", args: []string{"-tiny", "-generator", "x/y"}, cmd: "generate",
			check: func(t *testing.T, c Config) {
				require.Equal(t, "x/y", c.Generator)
				require.Equal(t, "programming.jsonl.gz", filepath.Base(c.Corpus))
			}},
		{name: "unknown subcommand", args: []string{"train"}, wantErr: `unknown subcommand "train"`},
		{name: "two subcommands", args: []string{"generate", "encode"}, wantErr: "one subcommand"},
		{name: "zero batch", args: []string{"-batch", "0"}, wantErr: "-batch is 0"},
		{name: "negative limit", args: []string{"-limit", "-1"}, wantErr: "-limit is -1"},
		{name: "no corpus file", args: []string{"-corpus", "/nonexistent/corpus-*.jsonl"}, wantErr: "-corpus /nonexistent/corpus-*.jsonl: no file matches it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, c, err := parseFlags(flag.NewFlagSet("beam", flag.ContinueOnError), tc.args, io.Discard)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.cmd, cmd)
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}
