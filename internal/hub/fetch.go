package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/genq-go/genq/internal/atomicfile"
)

// errRetry marks a download failure worth resuming (a dropped connection).
var errRetry = errors.New("retryable")

// download fetches a file's content into blobs/<etag>.incomplete, resuming
// what an earlier attempt left there, verifies it, and renames it to the blob.
// It then links the snapshot entry to the blob. It holds the blob's lock (see
// lockFile) throughout, as huggingface_hub does, so concurrent downloads of
// the same blob, in this or another process, take turns; whoever gets the
// lock after the blob was finished only links it.
func (s *session) download(ctx context.Context, file string, meta fileMeta, blob string) error {
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	lock, err := lockFile(ctx, s.lockPath(meta.etag))
	if err != nil {
		return fmt.Errorf("hub: downloading %s of %s: %w", file, s.repoID, err)
	}
	defer lock.unlock()
	if st, err := os.Stat(blob); err == nil && st.Size() == meta.size {
		return s.link(file, blob) // another download finished it while this one waited
	}
	partial := blob + ".incomplete"
	for attempt := 0; ; attempt++ {
		err := s.get(ctx, file, meta, partial)
		if err == nil {
			break
		}
		if !errors.Is(err, errRetry) || attempt >= s.cfg.retries || ctx.Err() != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("hub: downloading %s: %w (the partial file %s is kept and resumed next time)", file, ctx.Err(), partial)
			}
			return fmt.Errorf("hub: downloading %s of %s: %w (the partial file %s is kept and resumed next time)", file, s.repoID, err, partial)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	if err := verify(partial, meta); err != nil {
		os.Remove(partial)
		return fmt.Errorf("hub: %s of %s: %w; the download was discarded, try again", file, s.repoID, err)
	}
	// The blob is trusted by its name and size from now on: its bytes, and
	// then its name, are synced to disk first.
	if err := atomicfile.SyncFile(partial); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := os.Rename(partial, blob); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(blob)); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	return s.link(file, blob)
}

// get runs one GET into the partial file, asking only for the missing bytes.
func (s *session) get(ctx context.Context, file string, meta fileMeta, partial string) error {
	f, have, err := openSized(partial, os.O_CREATE|os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	if have > meta.size {
		if err := f.Truncate(0); err != nil {
			return err
		}
		have = 0
	}
	if have == meta.size && have > 0 {
		return nil
	}
	wd, rctx := s.watch(ctx)
	defer wd.stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, meta.location, nil)
	if err != nil {
		return err
	}
	s.setHeaders(req)
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", errRetry, wd.explain(err))
	}
	defer resp.Body.Close()
	wd.alive()
	switch code := resp.StatusCode; {
	case code == http.StatusPartialContent:
		if start := rangeStart(resp.Header.Get("Content-Range")); start != have {
			f.Truncate(0)
			return fmt.Errorf("%w: asked for bytes from %d, the server sent Content-Range %q", errRetry, have, resp.Header.Get("Content-Range"))
		}
	case code == http.StatusOK:
		if have > 0 { // the server ignored the Range: start over
			if err := f.Truncate(0); err != nil {
				return err
			}
			have = 0
		}
	case code == http.StatusRequestedRangeNotSatisfiable:
		f.Truncate(0)
		return fmt.Errorf("%w: the server refused the range from byte %d", errRetry, have)
	case code >= 500:
		return fmt.Errorf("%w: %s: HTTP %d", errRetry, meta.location, code)
	default:
		return statusError(resp, meta.location, s.repoID, s.rev(), file)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return err
	}
	var w io.Writer = f
	if s.cfg.progress != nil {
		bar := progressbar.NewOptions64(meta.size,
			progressbar.OptionSetWriter(s.cfg.progress),
			progressbar.OptionSetDescription(file),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(s.cfg.progress) }),
		)
		bar.Set64(have)
		defer bar.Close()
		w = io.MultiWriter(f, bar)
	}
	// Read at most one byte more than expected, so an oversized answer fails
	// verification instead of filling the disk.
	body := io.LimitReader(readerFunc(func(p []byte) (int, error) {
		n, err := resp.Body.Read(p)
		if n > 0 {
			wd.alive()
		}
		return n, err
	}), meta.size-have+1)
	if _, err := io.Copy(w, body); err != nil {
		return fmt.Errorf("%w: connection broke off: %w", errRetry, wd.explain(err))
	}
	return f.Sync()
}

// readerFunc turns a function into an io.Reader.
type readerFunc func([]byte) (int, error)

func (r readerFunc) Read(p []byte) (int, error) { return r(p) }

// watchdog cancels a download's request when no byte arrived for the stall
// timeout; alive restarts the count.
type watchdog struct {
	d      time.Duration
	timer  *time.Timer // nil without a stall timeout
	ctx    context.Context
	cancel context.CancelCauseFunc
}

// errStalled is the cause of a download's context when the stall timeout ran out.
var errStalled = errors.New("download stalled")

// watch starts a watchdog over a request's context.
func (s *session) watch(ctx context.Context) (*watchdog, context.Context) {
	rctx, cancel := context.WithCancelCause(ctx)
	wd := &watchdog{d: s.cfg.stall, ctx: rctx, cancel: cancel}
	if wd.d > 0 {
		wd.timer = time.AfterFunc(wd.d, func() { cancel(errStalled) })
	}
	return wd, rctx
}

func (wd *watchdog) alive() {
	if wd.timer != nil {
		wd.timer.Reset(wd.d)
	}
}

func (wd *watchdog) stop() {
	if wd.timer != nil {
		wd.timer.Stop()
	}
	wd.cancel(nil)
}

// explain says that err came from the stall timeout, where it did.
func (wd *watchdog) explain(err error) error {
	if errors.Is(context.Cause(wd.ctx), errStalled) {
		return fmt.Errorf("no data for %v (the stall timeout: set it with HF_HUB_DOWNLOAD_TIMEOUT or the StallTimeout option): %w", wd.d, err)
	}
	return err
}

// rangeStart parses the first byte of "bytes START-END/TOTAL", or -1.
func rangeStart(cr string) int64 {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return -1
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(start, 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// openSized opens the file p with flag (creating it 0o644 with O_CREATE)
// and returns it with its size.
func openSized(p string, flag int) (*os.File, int64, error) {
	f, err := os.OpenFile(p, flag, 0o644)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

// verify checks a downloaded file's size and, for LFS files, its sha256.
func verify(p string, meta fileMeta) error {
	f, size, err := openSized(p, os.O_RDONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	if size != meta.size {
		return fmt.Errorf("size check failed: the server announced %d bytes, got %d", meta.size, size)
	}
	if !meta.isLFS() {
		return nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != meta.etag {
		return fmt.Errorf("sha256 check failed: the content hashes to %s, the hub says %s", got, meta.etag)
	}
	return nil
}
