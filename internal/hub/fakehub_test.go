package hub_test

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const fakeCommit = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"

// fakeHub answers like huggingface.co for one repository: HEAD/GET on
// /{repo}/resolve/{revision}/{file}, LFS files redirected to a separate CDN
// server (another host) that honours Range requests.
type fakeHub struct {
	repo      string
	files     map[string][]byte
	lfs       map[string]bool // served through the CDN with X-Linked-Etag = sha256
	badSHA    map[string]bool // LFS files whose announced sha256 is wrong
	dropOnce  map[string]bool // the first CDN GET breaks off halfway
	stallOnce map[string]bool // the first CDN GET sends half, then nothing until canceled
	trickle   time.Duration   // CDN GETs send the content in 10 pieces, this far apart
	token     string          // when set, resolve requests need "Bearer <token>"

	hub, cdn *httptest.Server
	mu       sync.Mutex // guards the maps and token above (tests change them through set) and the log
	log      []string   // "HEAD|GET host path range=... auth=..."
	dropped  map[string]bool
}

func newFakeHub(t *testing.T, repo string, files map[string][]byte) *fakeHub {
	f := &fakeHub{repo: repo, files: files, lfs: map[string]bool{}, badSHA: map[string]bool{},
		dropOnce: map[string]bool{}, stallOnce: map[string]bool{}, dropped: map[string]bool{}}
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	t.Cleanup(func() { f.hub.Close(); f.cdn.Close() })
	return f
}

// set changes the fake's files or settings under its lock, so that requests
// served meanwhile (also from other processes) see a consistent state.
func (f *fakeHub) set(change func(f *fakeHub)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// lookup returns, under the lock, what the handlers need to know of a file.
func (f *fakeHub) lookup(file string) (content []byte, ok, lfs, badSHA bool, token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	content, ok = f.files[file]
	return content, ok, f.lfs[file], f.badSHA[file], f.token
}

func (f *fakeHub) record(server string, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("%s %s %s range=%s auth=%s", r.Method, server, r.URL.Path, r.Header.Get("Range"), r.Header.Get("Authorization")))
}

// requests returns the logged requests that contain all of the given parts.
func (f *fakeHub) requests(parts ...string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
next:
	for _, l := range f.log {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	f.record("hub", r)
	prefix := "/" + f.repo + "/resolve/"
	p := r.URL.EscapedPath()
	if !strings.HasPrefix(p, prefix) {
		w.Header().Set("X-Error-Code", "RepoNotFound")
		http.Error(w, "Repository not found", http.StatusNotFound)
		return
	}
	if _, _, _, _, token := f.lookup(""); token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("X-Error-Message", "Invalid credentials")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	rev, file, _ := strings.Cut(strings.TrimPrefix(p, prefix), "/")
	rev, _ = url.PathUnescape(rev)
	file, _ = url.PathUnescape(file)
	if rev != "main" && rev != fakeCommit {
		w.Header().Set("X-Error-Code", "RevisionNotFound")
		http.Error(w, "Invalid rev id", http.StatusNotFound)
		return
	}
	w.Header().Set("X-Repo-Commit", fakeCommit)
	content, ok, lfs, badSHA, _ := f.lookup(file)
	if !ok {
		w.Header().Set("X-Error-Code", "EntryNotFound")
		http.Error(w, "Entry not found", http.StatusNotFound)
		return
	}
	if lfs {
		sum := sha256Hex(content)
		if badSHA {
			sum = sha256Hex(append(content, '!'))
		}
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
		w.Header().Set("ETag", `W/"not-the-blob-name"`)
		w.Header().Set("Location", f.cdn.URL+"/blobs/"+url.PathEscape(file))
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitBlobID(content)+`"`)
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(content))
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	f.record("cdn", r)
	file, _ := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/blobs/"))
	content, ok, _, _, _ := f.lookup(file)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	drop := f.dropOnce[file] && !f.dropped[file]
	stall := f.stallOnce[file] && !f.dropped[file]
	f.dropped[file] = f.dropped[file] || drop || stall
	trickle := f.trickle
	f.mu.Unlock()
	if stall && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:len(content)/2])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	if trickle > 0 && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		for i := range 10 {
			time.Sleep(trickle)
			w.Write(content[i*len(content)/10 : (i+1)*len(content)/10])
			w.(http.Flusher).Flush()
		}
		return
	}
	if drop && r.Header.Get("Range") == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:len(content)/2])
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(content))
}
