//go:build windows

package hub

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLockFile tries once to lock f exclusively with LockFileEx. It locks the
// first byte, the range Python's filelock locks (msvcrt.locking of one byte
// at offset 0), so the two exclude each other. It reports false, nil while
// another handle holds the lock, and errNoFileLocks where the file system
// cannot lock.
func tryLockFile(f *os.File) (bool, error) {
	var ol windows.Overlapped // offset 0
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	case errors.Is(err, windows.ERROR_NOT_SUPPORTED), errors.Is(err, windows.ERROR_INVALID_FUNCTION):
		return false, errNoFileLocks
	default:
		return false, err
	}
}

// unlockFile releases the lock tryLockFile took.
func unlockFile(f *os.File) error {
	var ol windows.Overlapped
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, &ol)
}
