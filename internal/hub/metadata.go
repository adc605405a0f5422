package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// fileMeta is what the hub's HEAD answer says about one file.
type fileMeta struct {
	commit   string // X-Repo-Commit
	etag     string // X-Linked-Etag or ETag, unquoted: the blob's name
	size     int64  // X-Linked-Size or Content-Length
	location string // where to GET it: the redirect target (CDN) or the resolve URL
}

// isLFS reports whether the etag is a sha256 (LFS files), which the content
// must then hash to.
func (m fileMeta) isLFS() bool { return sha256Pattern.MatchString(m.etag) }

var (
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	etagPattern   = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,256}$`)
)

// errEntryNotFound marks a 404 for a file the repository lacks.
var errEntryNotFound = errors.New("file not found in the repository")

// netError marks a failure to talk to the server at all (as opposed to an
// HTTP error answer); the cache may then stand in for the network.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

// resolveURL is {endpoint}/{repo}/resolve/{revision}/{file}, with the
// revision escaped whole (refs/pr/1 → refs%2Fpr%2F1) and the file per segment.
func resolveURL(endpoint, repoID, revision, file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return endpoint + "/" + repoID + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(parts, "/")
}

// head asks the hub about a file. Relative redirects (renamed repositories)
// are followed; an absolute one (to the CDN) is not: its headers are the
// metadata and its Location is where the content is fetched from.
func (s *session) head(ctx context.Context, file string) (fileMeta, error) {
	u := resolveURL(s.endpoint, s.repoID, s.rev(), file)
	client := *s.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for hops := 0; ; hops++ {
		resp, req, err := s.headOnce(ctx, &client, u)
		if err != nil {
			return fileMeta{}, err
		}
		h := resp.Header
		if resp.StatusCode >= 300 && resp.StatusCode < 400 && hops < 10 {
			if loc, err := url.Parse(h.Get("Location")); err == nil && loc.Host == "" && h.Get("Location") != "" {
				u = req.URL.ResolveReference(loc).String()
				continue
			}
		}
		if err := statusError(resp, u, s.repoID, s.rev(), file); err != nil {
			return fileMeta{commit: validCommit(h.Get("X-Repo-Commit"))}, err
		}
		m := fileMeta{commit: h.Get("X-Repo-Commit"), location: u}
		if loc := h.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			m.location = loc
		}
		m.etag = normalizeETag(h.Get("X-Linked-Etag"))
		if m.etag == "" {
			m.etag = normalizeETag(h.Get("ETag"))
		}
		size := h.Get("X-Linked-Size")
		if size == "" {
			size = h.Get("Content-Length")
		}
		switch {
		case !IsCommitHash(m.commit):
			return m, fmt.Errorf("hub: %s: the server sent X-Repo-Commit %q, not a commit hash (is HF_ENDPOINT a Hugging Face hub?)", u, m.commit)
		case !etagPattern.MatchString(m.etag) || strings.Trim(m.etag, ".") == "":
			return m, fmt.Errorf("hub: %s: the server sent no usable ETag (%q)", u, m.etag)
		}
		if m.size, err = strconv.ParseInt(size, 10, 64); err != nil || m.size < 0 {
			return m, fmt.Errorf("hub: %s: the server sent no file size (X-Linked-Size / Content-Length %q)", u, size)
		}
		return m, nil
	}
}

// headOnce sends one HEAD request, bounded by the metadata timeout. A
// failure to get an answer is a *netError; one that ran into the timeout
// says so.
func (s *session) headOnce(ctx context.Context, client *http.Client, u string) (*http.Response, *http.Request, error) {
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if s.cfg.metaWait > 0 {
		rctx, cancel = context.WithTimeoutCause(ctx, s.cfg.metaWait, errMetaTimeout)
	}
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodHead, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("hub: %w", err)
	}
	s.setHeaders(req)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(context.Cause(rctx), errMetaTimeout) {
			err = fmt.Errorf("HEAD %s: no answer within %v (the metadata timeout: set it with HF_HUB_ETAG_TIMEOUT or the MetadataTimeout option)", u, s.cfg.metaWait)
		}
		return nil, nil, &netError{err}
	}
	resp.Body.Close()
	return resp, req, nil
}

// errMetaTimeout is the cause of a metadata request's context when its
// timeout ran out.
var errMetaTimeout = errors.New("metadata timeout")

// statusError turns an HTTP error answer into an error that says what to do.
func statusError(resp *http.Response, u, repoID, rev, file string) error {
	code := resp.StatusCode
	if code < 400 {
		return nil
	}
	what := resp.Header.Get("X-Error-Message")
	if what == "" {
		what = http.StatusText(code)
	}
	switch {
	case code == http.StatusNotFound && resp.Header.Get("X-Error-Code") == "RevisionNotFound":
		return fmt.Errorf("hub: revision %q of %s does not exist (%s: HTTP 404, %s)", rev, repoID, u, what)
	case code == http.StatusNotFound && resp.Header.Get("X-Error-Code") == "RepoNotFound":
		return fmt.Errorf("hub: repository %s does not exist (%s: HTTP 404, %s); check the model id", repoID, u, what)
	case code == http.StatusNotFound:
		return fmt.Errorf("hub: %s is not in %s at revision %q (%s: HTTP 404): %w", file, repoID, rev, u, errEntryNotFound)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("hub: %s: HTTP %d (%s): repository %s does not exist, or it is private or gated and needs a token with access: set HF_TOKEN (or log in with `huggingface-cli login`)", u, code, what, repoID)
	}
	return fmt.Errorf("hub: %s: HTTP %d (%s)", u, code, what)
}

// normalizeETag strips the weak marker and the quotes of an ETag.
func normalizeETag(e string) string {
	e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
	return strings.Trim(e, `"`)
}

func validCommit(c string) string {
	if IsCommitHash(c) {
		return c
	}
	return ""
}
