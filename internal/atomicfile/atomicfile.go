// Package atomicfile writes files so that readers see either the old
// content or the whole new one, never a partial file.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write writes a file through fill into a temporary file next to path,
// syncs it, makes it 0o644 and renames it over path; on any error the
// temporary file is removed and path is left untouched.
func Write(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
