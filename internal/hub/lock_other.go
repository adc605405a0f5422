//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris || windows)

package hub

import "os"

// tryLockFile reports errNoFileLocks: on this platform (aix, js, plan9,
// wasip1, ...) genq takes no OS file lock, so downloads of the same blob are
// serialised within one process only. Two processes downloading the same
// blob at once may still spoil each other's partial file; the sha256 and
// size checks then reject it and the download fails instead of caching
// corrupt data.
func tryLockFile(f *os.File) (bool, error) { return false, errNoFileLocks }

// unlockFile does nothing: tryLockFile never locks.
func unlockFile(f *os.File) error { return nil }
