// Package atomicfile writes files so that readers see either the old
// content or the whole new one, never a partial file, and so that a write
// that has returned survives a power loss.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Durability: a file counts as written only once its bytes and the folder
// entry that names it are on disk. Every writer here syncs the file, renames
// it into place and then syncs the folder, so that after a power loss a
// reader finds either the old file or the complete new one, never a name
// that points at missing or partial data (what ext4, xfs and btrfs promise
// for fsync of a file and of its folder; SQLite and PostgreSQL rely on the
// same two calls).

// Write writes a file through fill into a temporary file next to
// path, syncs it, renames it over path and syncs the folder; on any error the
// temporary file is removed and path is left untouched.
func Write(path string, fill func(io.Writer) error) error {
	tmp, err := writeTemp(filepath.Dir(path), filepath.Base(path), fill)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// WriteTemp writes b into a new temporary file for name in dir (TempPrefix
// and random digits), syncs it and returns its path, for the caller to
// rename to name. On error nothing is left behind.
func WriteTemp(dir, name string, b []byte) (string, error) {
	return writeTemp(dir, name, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// writeTemp is WriteTemp with the content written by fill.
func writeTemp(dir, name string, fill func(io.Writer) error) (tmp string, err error) {
	f, err := os.CreateTemp(dir, TempPrefix(name)+"*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return "", err
	}
	if err = f.Chmod(0o644); err != nil {
		return "", err
	}
	if err = syncFile(f); err != nil {
		return "", err
	}
	if err = f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// WriteSynced creates path (it must not exist), writes b into it and
// syncs it to disk before closing it. The caller syncs the folder (SyncDir)
// once all of its files are written.
func WriteSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err = syncClose(f, err); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// SyncFile syncs the written file path to disk, before it is renamed into
// place.
func SyncFile(path string) error { return syncPath(path) }

// SyncDir makes a folder's entries durable: the files created in it, renamed
// into it or out of it since the last sync.
func SyncDir(dir string) error { return syncPath(dir) }

// syncPath opens the file or folder path and syncs it.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := syncClose(f, nil); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// syncClose syncs f unless err (an earlier error of its writer) is set, and
// closes it; it returns the first error.
func syncClose(f *os.File, err error) error {
	if err == nil {
		err = syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// MkdirAll creates dir and its missing parents as os.MkdirAll does (mode
// 0o755), syncing the folder that receives each new one, so that what is
// later synced inside dir is not lost with dir's name.
func MkdirAll(dir string) error {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		err := os.Mkdir(missing[i], 0o755)
		if err == nil || os.IsExist(err) {
			err = SyncDir(filepath.Dir(missing[i]))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SyncTrace, when not nil, is called with the name of every file and folder
// this package syncs, after the sync succeeded. Tests set it to check that a
// writer syncs what it must; it is nil otherwise (it is not safe to change
// while a write runs).
var SyncTrace func(name string)

// syncFile syncs f and reports it to SyncTrace.
func syncFile(f *os.File) error {
	if err := f.Sync(); err != nil {
		return err
	}
	if SyncTrace != nil {
		SyncTrace(f.Name())
	}
	return nil
}

// TempPrefix is the name prefix of the temporary files and folders written
// next to name before they are renamed to it: "." + name + ".tmp-", followed
// by the random digits os.CreateTemp and os.MkdirTemp add.
func TempPrefix(name string) string { return "." + name + ".tmp-" }

// IsTempOf reports whether entry is a temporary file or folder of name that
// an interrupted write left behind (TempPrefix(name) and random digits).
func IsTempOf(entry, name string) bool {
	rest, ok := strings.CutPrefix(entry, TempPrefix(name))
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveTemps removes from dir every leftover temporary file or folder of
// name (IsTempOf): what a crash inside an atomic write leaves. It returns
// the first error; a missing dir is no error.
func RemoveTemps(dir, name string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if IsTempOf(e.Name(), name) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}
