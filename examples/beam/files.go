package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// The paths the pipeline reads and writes go through Beam's filesystem
// package, so the same flags take local paths (Prism, a single machine) and
// bucket paths (gs://bucket/..., s3://..., for a cluster runner). The
// schemes main links in are registered by the imports of main.go.

// hasScheme reports whether p names a path of a Beam filesystem other than
// the local one ("gs://bucket/x", "memfs://x").
func hasScheme(p string) bool { return strings.Contains(p, "://") }

// joinPath joins a folder and a file name for either kind of path.
func joinPath(dir, name string) string {
	if hasScheme(dir) {
		return strings.TrimSuffix(dir, "/") + "/" + name
	}
	return filepath.Join(dir, name)
}

// listFiles expands a path or glob into the files it names, sorted by name:
// the order of a sharded corpus (corpus-00000-of-00004.jsonl, ...).
func listFiles(ctx context.Context, glob string) ([]string, error) {
	fs, err := filesystem.New(ctx, glob)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	files, err := fs.List(ctx, glob)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", glob, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no file matches %s", glob)
	}
	slices.Sort(files)
	return files, nil
}

// openRead opens the file name of any registered filesystem.
func openRead(ctx context.Context, name string) (io.ReadCloser, error) {
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return nil, err
	}
	r, err := fs.OpenRead(ctx, name)
	if err != nil {
		fs.Close()
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, closers{r, fs}}, nil
}

// closers closes each of its members, returning the first error.
type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// writeFile writes data to name so that a reader sees either the old file
// or the whole new one, never a part: a local file is written beside its
// destination, synced and renamed over it; a bucket object is committed
// whole when its writer closes. A bundle that is retried writes the same
// bytes again, so a retry leaves one copy, not two.
func writeFile(ctx context.Context, name string, data []byte) error {
	return writeStream(ctx, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeStream writes name whole, as writeFile does, with what fill writes.
func writeStream(ctx context.Context, name string, fill func(io.Writer) error) error {
	if !hasScheme(name) {
		return writeLocal(name, func(f *os.File) error { return fill(f) })
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return err
	}
	defer fs.Close()
	w, err := fs.OpenWrite(ctx, name)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	err = fill(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// removeFile removes name if its filesystem can, ignoring errors: it
// tidies up temporary parts, which a later run overwrites anyway.
func removeFile(ctx context.Context, name string) {
	if !hasScheme(name) {
		os.Remove(name)
		return
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return
	}
	defer fs.Close()
	if r, ok := fs.(filesystem.Remover); ok {
		r.Remove(ctx, name)
	}
}

// writeLocal creates the local file name atomically with fill: a temporary
// file in the same folder, synced, then renamed over name.
func writeLocal(name string, fill func(*os.File) error) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = f.Chmod(0o644)
	if err == nil {
		err = fill(f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// stageModel returns a local folder or hub id that t5.Load and
// encoder.Load read for the model named by name. A local folder or a hub
// id is returned as it is (a hub id is then read from the worker's Hugging
// Face cache, or downloaded into it). A bucket folder (gs://bucket/t5) is
// copied, with its subfolders one level deep (1_Pooling/ of a
// sentence-transformers model), into a temporary folder that cleanup
// removes.
func stageModel(ctx context.Context, name string) (dir string, cleanup func(), err error) {
	if !hasScheme(name) {
		return name, func() {}, nil
	}
	fs, err := filesystem.New(ctx, name)
	if err != nil {
		return "", nil, err
	}
	defer fs.Close()
	root := strings.TrimSuffix(name, "/")
	var files []string
	for _, glob := range []string{root + "/*", root + "/*/*"} {
		got, err := fs.List(ctx, glob)
		if err != nil {
			return "", nil, fmt.Errorf("listing the model folder %s: %w", name, err)
		}
		files = append(files, got...)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	if len(files) == 0 {
		return "", nil, fmt.Errorf("the model folder %s holds no files; copy a checkpoint folder there (config.json, model.safetensors and the tokenizer files, as save_pretrained writes them)", name)
	}
	dir, err = os.MkdirTemp("", "genq-model-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	for _, f := range files {
		rel := strings.TrimPrefix(strings.TrimPrefix(f, root), "/")
		if rel == "" || strings.Contains(rel, "..") {
			continue
		}
		if err := copyToLocal(ctx, fs, f, filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return dir, cleanup, nil
}

// copyToLocal copies the file src of fs to the local path dst.
func copyToLocal(ctx context.Context, fs filesystem.Interface, src, dst string) error {
	r, err := fs.OpenRead(ctx, src)
	if err != nil {
		return fmt.Errorf("reading %s: %w", src, err)
	}
	defer r.Close()
	return writeLocal(dst, func(f *os.File) error {
		_, err := io.Copy(f, r)
		return err
	})
}

// checkoutRoot finds the genq checkout this example belongs to: two folders
// above this source file (go run, go test), else the folder above the
// working directory whose go.mod is the library's.
func checkoutRoot() (string, error) {
	_, file, _, _ := runtime.Caller(0)
	if file != "" {
		d := filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
		if isCheckout(d) {
			return d, nil
		}
	}
	wd, _ := os.Getwd()
	for d := wd; d != ""; d = filepath.Dir(d) {
		if isCheckout(d) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", fmt.Errorf("-tiny and -corpus bundled need a genq checkout (its testdata/fixtures and examples/programming/data), and none was found next to the source or above %s; run from inside a checkout, or pass -generator, -encoder and -corpus", wd)
}

// isCheckout reports whether d is the root of a genq checkout.
func isCheckout(d string) bool {
	mod, err := os.ReadFile(filepath.Join(d, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module github.com/genq-go/genq\n") {
		return false
	}
	_, err = os.Stat(filepath.Join(d, "testdata", "fixtures", "t5-tiny", "config.json"))
	return err == nil
}
