package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Downloads of one blob are serialised with an exclusive lock on the file
// huggingface_hub locks for it, <cache>/.locks/models--org--name/<etag>.lock,
// so genq and Python processes sharing a cache never write the same
// blobs/<etag>.incomplete at once. The lock has two layers:
//
//   - within this process, a per-path semaphore, so goroutines exclude each
//     other whatever the file system does (flock emulated with fcntl, as on
//     Linux NFS, would not separate two goroutines of one process);
//   - between processes, an OS file lock taken without blocking and retried
//     every lockPoll until it is free or the context is done: flock on Unix
//     and LockFileEx on Windows, the calls Python's filelock makes. On a file
//     system that does not support them, and on platforms without them
//     (lock_other.go), only the first layer applies.
//
// The lock file is left in place when the lock is released, as
// huggingface_hub leaves it: removing it would let a process that opened the
// old file and one that creates a new one hold "the" lock at the same time.

// lockPoll is how often a lock held by another process is tried again.
const lockPoll = 50 * time.Millisecond

// errNoFileLocks is returned by tryLockFile where the platform or the file
// system offers no file locks.
var errNoFileLocks = errors.New("file locks are not supported here")

// lockPath returns the file huggingface_hub locks while it downloads a blob
// of the repository: <cache>/.locks/models--org--name/<etag>.lock.
func (s *session) lockPath(etag string) string {
	return filepath.Join(s.cfg.cacheDir, ".locks", filepath.Base(s.repo), etag+".lock")
}

// fileLock is a held lock; release it with unlock.
type fileLock struct {
	slot *procLock
	f    *os.File // nil when only the in-process layer could be taken
}

// lockFile takes the exclusive lock on path, creating the file (and its
// folder) if needed, and waits while another goroutine or process holds it.
// When ctx is done first, it gives up with an error that names the lock file.
func lockFile(ctx context.Context, path string) (*fileLock, error) {
	slot, err := lockInProcess(ctx, path)
	if err != nil {
		return nil, err
	}
	f, err := openLockFile(path)
	if err != nil {
		slot.unlock()
		return nil, fmt.Errorf("opening the lock file %s: %w", path, err)
	}
	for {
		ok, err := tryLockFile(f)
		switch {
		case errors.Is(err, errNoFileLocks):
			f.Close()
			return &fileLock{slot: slot}, nil
		case err != nil:
			f.Close()
			slot.unlock()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		case ok:
			return &fileLock{slot: slot, f: f}, nil
		}
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			slot.unlock()
			return nil, waitError(path, "another process", ctx.Err())
		case <-t.C:
		}
	}
}

// unlock releases the lock; the lock file stays.
func (l *fileLock) unlock() {
	if l.f != nil {
		unlockFile(l.f) // closing releases it too; unlocking first is explicit
		l.f.Close()
	}
	l.slot.unlock()
}

func waitError(path, holder string, cause error) error {
	return fmt.Errorf("gave up waiting for the lock file %s, held by %s downloading the same blob: %w", path, holder, cause)
}

// openLockFile opens (creating) the lock file, read-only where it exists
// but is not writable (a cache shared between users); either mode can be
// locked.
func openLockFile(path string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if errors.Is(err, os.ErrPermission) {
		if g, rerr := os.Open(path); rerr == nil {
			return g, nil
		}
	}
	return f, err
}

// procLocks holds a semaphore for each lock path in use in this process.
var procLocks = struct {
	sync.Mutex
	m map[string]*procLock
}{m: map[string]*procLock{}}

// procLock is the in-process layer of one lock path.
type procLock struct {
	key  string
	sem  chan struct{} // holds a token while the lock is held
	refs int           // holders and waiters, guarded by procLocks
}

// lockInProcess takes the in-process lock of path, waiting while another
// goroutine holds it and giving up when ctx is done.
func lockInProcess(ctx context.Context, path string) (*procLock, error) {
	key := path
	if abs, err := filepath.Abs(path); err == nil {
		key = abs
	}
	procLocks.Lock()
	l := procLocks.m[key]
	if l == nil {
		l = &procLock{key: key, sem: make(chan struct{}, 1)}
		procLocks.m[key] = l
	}
	l.refs++
	procLocks.Unlock()

	select {
	case l.sem <- struct{}{}: // free: take it even if ctx is already done
		return l, nil
	default:
	}
	select {
	case l.sem <- struct{}{}:
		return l, nil
	case <-ctx.Done():
		l.release()
		return nil, waitError(path, "another goroutine", ctx.Err())
	}
}

// unlock frees the in-process lock for the next waiter.
func (l *procLock) unlock() {
	<-l.sem
	l.release()
}

// release drops one reference, forgetting the path when nobody uses it.
func (l *procLock) release() {
	procLocks.Lock()
	defer procLocks.Unlock()
	if l.refs--; l.refs == 0 {
		delete(procLocks.m, l.key)
	}
}
