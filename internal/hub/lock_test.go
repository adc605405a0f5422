package hub_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/hub"
)

// settle is how long a download that got its HEAD answer is given to reach
// the wait for the blob's lock. The tests pass whatever it is when the lock
// works; it only makes sure they would catch a download that skips the lock.
const settle = 100 * time.Millisecond

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// gatedClient returns an HTTP client whose GETs to the CDN (any host but
// the hub's) report their path on started once the server has answered, then
// hold the answer back until release is closed: a slow download that holds
// the blob's lock for as long as a test needs.
func gatedClient(hubURL string, started chan<- string, release <-chan struct{}) *http.Client {
	hubHost := strings.TrimPrefix(hubURL, "http://")
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil || r.Method != http.MethodGet || r.URL.Host == hubHost {
			return resp, err
		}
		started <- r.URL.Path
		select {
		case <-release:
			return resp, nil
		case <-r.Context().Done():
			resp.Body.Close()
			return nil, r.Context().Err()
		}
	})}
}

// waitFor polls cond until it holds, failing the test after 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		require.False(t, time.Now().After(deadline), "timed out waiting for %s", what)
	}
}

// heads reports whether the hub was asked about file n times.
func heads(f *fakeHub, file string, n int) func() bool {
	return func() bool { return len(f.requests("HEAD hub", "/"+file)) == n }
}

// lockFileOf is where huggingface_hub locks the download of a file's blob.
func lockFileOf(f *fakeHub, cache, file string) string {
	return filepath.Join(cache, ".locks", "models--org--model", sha256Hex(f.files[file])+".lock")
}

func download(ctx context.Context, opts hub.Options, file string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := hub.Download(ctx, repoID, "", []string{file}, opts)
		done <- err
	}()
	return done
}

// heldDownload starts a download of file through gatedClient and returns
// once it holds the blob's lock, the content on the way: the download ends
// (on done) after release is closed.
func heldDownload(f *fakeHub, opts hub.Options, file string) (done <-chan error, release chan struct{}) {
	started, release := make(chan string, 1), make(chan struct{})
	opts.Client = gatedClient(f.hub.URL, started, release)
	done = download(context.Background(), opts, file)
	<-started
	return done, release
}

func TestConcurrentDownloadsShareOneBlob(t *testing.T) {
	f, opts, cache := newRepo(t)
	const file = "model.safetensors"
	first, release := heldDownload(f, opts, file)
	second := download(context.Background(), opts, file)
	waitFor(t, "the second download's HEAD", heads(f, file, 2))
	time.Sleep(settle)
	close(release)

	for i, done := range []<-chan error{first, second} {
		require.NoError(t, <-done, "download %d", i+1)
	}
	assert.Len(t, f.requests("GET cdn /blobs/"+file), 1, "the CDN should send the file once (the second download should find the blob done)")
	snap := filepath.Join(cache, "models--org--model", "snapshots", fakeCommit)
	checkSnapshot(t, f, snap, file) // the blob is named by its sha256 and holds the content
	noPartialFiles(t, cache)
	assert.FileExists(t, lockFileOf(f, cache, file), "the lock file is not where huggingface_hub puts it")
}

func TestCanceledWhileWaitingForLock(t *testing.T) {
	f, opts, cache := newRepo(t)
	const file = "model.safetensors"
	first, release := heldDownload(f, opts, file)
	ctx, cancel := context.WithCancel(context.Background())
	second := download(ctx, opts, file)
	waitFor(t, "the second download's HEAD", heads(f, file, 2))
	time.Sleep(settle)
	cancel()
	canceled := time.Now()
	select {
	case err := <-second:
		assert.LessOrEqual(t, time.Since(canceled), time.Second, "the waiting download's return after its context was canceled")
		lock := lockFileOf(f, cache, file)
		assert.ErrorContains(t, err, "waiting for the lock file "+lock)
		assert.ErrorContains(t, err, "context canceled")
	case <-time.After(5 * time.Second):
		require.Fail(t, "a download waiting for the lock ignores its canceled context")
	}

	close(release)
	require.NoError(t, <-first, "the download holding the lock")
	assert.Len(t, f.requests("GET cdn"), 1, "CDN GETs: want the first download's only")
	// The canceled waiter left the lock usable.
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := hub.Download(ctx, repoID, "", []string{"spiece.model", file}, opts)
	require.NoError(t, err)
}

func TestLockIsPerBlob(t *testing.T) {
	f, opts, cache := newRepo(t)
	first, release := heldDownload(f, opts, "model.safetensors")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := hub.Download(ctx, repoID, "", []string{"spiece.model"}, opts)
	require.NoError(t, err, "another blob waited for model.safetensors' lock")
	select {
	case err := <-first:
		require.Fail(t, "the gated download finished early", "error %v", err)
	default:
	}
	close(release)
	require.NoError(t, <-first)
	checkSnapshot(t, f, filepath.Join(cache, "models--org--model", "snapshots", fakeCommit), "spiece.model", "model.safetensors")
}

func TestStaleLockFileDoesNotBlock(t *testing.T) {
	f, opts, cache := newRepo(t)
	// A lock file left by a process that died: present, but nobody holds it.
	lock := lockFileOf(f, cache, "model.safetensors")
	require.NoError(t, os.MkdirAll(filepath.Dir(lock), 0o755))
	require.NoError(t, os.WriteFile(lock, nil, 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := hub.Download(ctx, repoID, "", []string{"model.safetensors"}, opts)
	require.NoError(t, err)
	checkSnapshot(t, f, snap, "model.safetensors")
}

// TestLockAcrossProcesses runs a second process (this test binary, see
// TestLockHelperProcess) that downloads model.safetensors slowly, and checks
// that this process waits for its lock, gives up when its context ends, and
// otherwise uses the blob the other process finished.
func TestLockAcrossProcesses(t *testing.T) {
	f, opts, cache := newRepo(t)
	const file = "model.safetensors"
	// A request from this goroutine first: the race detector sees the fake
	// hub's setup ordered before its handlers through this process's own
	// I/O only, not through the helper's requests.
	resp, err := http.Head(f.hub.URL + "/" + repoID + "/resolve/main/config.json")
	require.NoError(t, err)
	resp.Body.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "GENQ_HUB_LOCK_HELPER=1", "GENQ_HUB_LOCK_ENDPOINT="+opts.Endpoint, "GENQ_HUB_LOCK_CACHE="+cache)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	out := bufio.NewScanner(stdout)
	for out.Scan() && out.Text() != "downloading" {
	}
	require.Equal(t, "downloading", out.Text(), "the helper process did not start its download: %v; stderr:\n%s", out.Err(), &stderr)
	go io.Copy(io.Discard, stdout)

	// The other process holds the lock: a context that ends stops the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	_, err = hub.Download(ctx, repoID, "", []string{file}, opts)
	lock := lockFileOf(f, cache, file)
	assert.ErrorContains(t, err, "waiting for the lock file "+lock)
	assert.ErrorContains(t, err, "another process")
	assert.LessOrEqual(t, time.Since(begin), 2*time.Second, "gave up late: want about 300ms")

	// Without a deadline it waits, then finds the blob the other one made.
	mine := download(context.Background(), opts, file)
	waitFor(t, "this process's HEAD", heads(f, file, 3))
	time.Sleep(settle)
	stdin.Close() // lets the helper's download finish
	require.NoError(t, cmd.Wait(), "helper process; stderr:\n%s", &stderr)
	require.NoError(t, <-mine)
	assert.Len(t, f.requests("GET cdn"), 1, "CDN GETs: want the helper's only")
	checkSnapshot(t, f, filepath.Join(cache, "models--org--model", "snapshots", fakeCommit), file)
	noPartialFiles(t, cache)
}

// TestLockHelperProcess is the other process of TestLockAcrossProcesses: it
// downloads model.safetensors, says "downloading" once the content is on its
// way, and finishes when its stdin is closed. Run on its own it does nothing.
func TestLockHelperProcess(t *testing.T) {
	if os.Getenv("GENQ_HUB_LOCK_HELPER") != "1" {
		return
	}
	started, release := make(chan string, 1), make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(release)
	}()
	go func() {
		<-started
		os.Stdout.WriteString("downloading\n")
	}()
	endpoint := os.Getenv("GENQ_HUB_LOCK_ENDPOINT")
	client := gatedClient(endpoint, started, release)
	opts := hub.Options{Endpoint: endpoint, CacheDir: os.Getenv("GENQ_HUB_LOCK_CACHE"), Client: client}
	_, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
	require.NoError(t, err)
}
