//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd || solaris

package hub

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLockFile tries once to take an exclusive flock on f, as Python's
// filelock does (fcntl.flock with LOCK_EX|LOCK_NB). It reports false, nil
// while another open file holds the lock, and errNoFileLocks on a file
// system without flock support.
func tryLockFile(f *os.File) (bool, error) {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK), errors.Is(err, unix.EAGAIN):
			return false, nil
		case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOLCK):
			return false, errNoFileLocks
		default:
			return false, err
		}
	}
}

// unlockFile releases the flock on f.
func unlockFile(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_UN)
}
