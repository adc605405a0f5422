package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/genq-go/genq/internal/atomicfile"
)

// Download fetches files of a model repository at a revision ("" means
// "main") into the hub cache and returns the snapshot folder that holds them,
// <cache>/models--org--name/snapshots/<commit>.
//
// It speaks the hub's protocol as huggingface_hub does: HEAD
// {endpoint}/{repo}/resolve/{revision}/{file} gives the commit, the ETag (the
// sha256 for LFS files) and the size, and the content is fetched from where
// that answer redirects (a CDN). The first answer pins the commit, and every
// other file is fetched at that commit, so the snapshot is consistent. Files
// already in the cache are not fetched again; a download that broke off is
// resumed from blobs/<etag>.incomplete with an HTTP Range request; sizes and
// LFS sha256 sums are verified before the blob is renamed into place, so no
// partial file is ever visible. refs/<revision> records the commit.
//
// Offline (Options.Offline or $HF_HUB_OFFLINE), or when the server cannot be
// reached, files are served from the cache, and the error says which are
// missing. Files listed in Options.Optional may be absent from the
// repository: a 404 for them is skipped (and recorded in .no_exist/ as
// huggingface_hub does).
func Download(ctx context.Context, repoID, revision string, files []string, opts Options) (string, error) {
	s, err := newSession(repoID, revision, opts)
	if err != nil {
		return "", err
	}
	if len(files) == 0 {
		return "", fmt.Errorf("hub: Download of %s: no files requested", repoID)
	}
	for _, f := range files {
		if _, err := s.fetch(ctx, f, s.cfg.optional[f]); err != nil {
			return "", err
		}
	}
	return s.finish()
}

// session downloads files of one repository at one revision.
type session struct {
	cfg      config
	repoID   string
	revision string
	endpoint string
	repo     string // the repository's cache folder
	client   *http.Client
	commit   string // pinned by the first answer (or the cache)
	offline  bool   // set by the config, or when the server cannot be reached
	netErr   error  // why the session went offline, if it did
}

func newSession(repoID, revision string, opts Options) (*session, error) {
	revision, err := checkRepo(repoID, revision)
	if err != nil {
		return nil, err
	}
	cfg := opts.resolve()
	s := &session{
		cfg: cfg, repoID: repoID, revision: revision, endpoint: cfg.endpoint,
		repo: RepoFolder(cfg.cacheDir, repoID), client: cfg.client, offline: cfg.offline,
	}
	if IsCommitHash(revision) {
		s.commit = revision
	}
	return s, nil
}

// rev is the revision to ask for: the pinned commit once known.
func (s *session) rev() string {
	if s.commit != "" {
		return s.commit
	}
	return s.revision
}

func (s *session) setHeaders(req *http.Request) {
	req.Header.Set("User-Agent", "genq (huggingface_hub compatible)")
	if s.cfg.token != "" && sameHost(req.URL.String(), s.endpoint) {
		req.Header.Set("Authorization", "Bearer "+s.cfg.token)
	}
}

func sameHost(a, b string) bool {
	ua, err1 := http.NewRequest(http.MethodGet, a, nil)
	ub, err2 := http.NewRequest(http.MethodGet, b, nil)
	return err1 == nil && err2 == nil && strings.EqualFold(ua.URL.Host, ub.URL.Host)
}

// validFile rejects file names that would escape the snapshot folder.
func validFile(f string) bool {
	return f != "" && !strings.Contains(f, `\`) && path.Clean(f) == f && filepath.IsLocal(filepath.FromSlash(f))
}

// fetch brings one file into the snapshot. It reports false, without error,
// for an optional file the repository lacks.
func (s *session) fetch(ctx context.Context, file string, optional bool) (bool, error) {
	if !validFile(file) {
		return false, fmt.Errorf("hub: %q is not a file path inside a repository", file)
	}
	if s.offline {
		return s.fromCache(file, optional)
	}
	meta, err := s.head(ctx, file)
	var ne *netError
	switch {
	case err == nil:
	case errors.Is(err, errEntryNotFound) && optional:
		if s.commit == "" {
			s.commit = meta.commit
		}
		s.markNoExist(meta.commit, file)
		return false, nil
	case errors.As(err, &ne) && ctx.Err() == nil:
		s.offline, s.netErr = true, err
		return s.fromCache(file, optional)
	case errors.As(err, &ne):
		return false, fmt.Errorf("hub: %s: %w", file, ctx.Err())
	default:
		return false, err
	}
	if s.commit == "" {
		s.commit = meta.commit
	} else if meta.commit != s.commit {
		return false, fmt.Errorf("hub: %s of %s is at commit %s, the rest of the snapshot at %s (the repository changed during the download; try again)", file, s.repoID, meta.commit, s.commit)
	}
	blob := filepath.Join(s.repo, "blobs", meta.etag)
	if st, err := os.Stat(blob); err != nil || st.Size() != meta.size {
		// download links the snapshot entry itself, under the blob's lock
		if err := s.download(ctx, file, meta, blob); err != nil {
			return false, err
		}
		return true, nil
	}
	return true, s.link(file, blob)
}

// fromCache serves a file from the cache when offline.
func (s *session) fromCache(file string, optional bool) (bool, error) {
	why := "HF_HUB_OFFLINE is set"
	fix := "unset HF_HUB_OFFLINE (and Options.Offline) to download it"
	if s.netErr != nil {
		why = fmt.Sprintf("the hub %s cannot be reached (%v)", s.endpoint, s.netErr)
		fix = "check the network, HF_ENDPOINT and proxy settings"
	}
	if s.commit == "" {
		c, err := cachedCommit(s.repo, s.revision)
		if err != nil {
			return false, fmt.Errorf("hub: %s and revision %q of %s is not in the cache %s (%v); %s", why, s.revision, s.repoID, s.cfg.cacheDir, err, fix)
		}
		s.commit = c
	}
	p := filepath.Join(s.repo, "snapshots", s.commit, filepath.FromSlash(file))
	if _, err := os.Stat(p); err == nil {
		return true, nil
	}
	if optional {
		return false, nil
	}
	return false, fmt.Errorf("hub: %s and %s of %s (revision %q, commit %s) is not in the cache: no %s; %s", why, file, s.repoID, s.revision, s.commit, p, fix)
}

// finish records the revision's commit and returns the snapshot folder.
func (s *session) finish() (string, error) {
	if s.commit == "" {
		return "", fmt.Errorf("hub: none of the requested files exist in %s at revision %q", s.repoID, s.revision)
	}
	snap := filepath.Join(s.repo, "snapshots", s.commit)
	if s.offline {
		return snap, nil
	}
	if err := os.MkdirAll(snap, 0o755); err != nil {
		return "", fmt.Errorf("hub: %w", err)
	}
	if s.revision != s.commit {
		ref := filepath.Join(s.repo, "refs", filepath.FromSlash(s.revision))
		if b, err := os.ReadFile(ref); err != nil || string(b) != s.commit {
			if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
				return "", fmt.Errorf("hub: %w", err)
			}
			if err := atomicfile.Write(ref, func(w io.Writer) error {
				_, err := io.WriteString(w, s.commit)
				return err
			}); err != nil {
				return "", fmt.Errorf("hub: writing %s: %w", ref, err)
			}
		}
	}
	return snap, nil
}

// link points snapshots/<commit>/<file> at the blob with a relative symlink
// (../../blobs/<etag>), or copies the blob where symlinks are not available.
func (s *session) link(file, blob string) error {
	ptr := filepath.Join(s.repo, "snapshots", s.commit, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(ptr), 0o755); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	rel, err := filepath.Rel(filepath.Dir(ptr), blob)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	if target, err := os.Readlink(ptr); err == nil && target == rel {
		return nil
	}
	if _, err := os.Lstat(ptr); err == nil {
		if err := os.Remove(ptr); err != nil {
			return fmt.Errorf("hub: replacing %s: %w", ptr, err)
		}
	}
	if err := os.Symlink(rel, ptr); err == nil {
		return nil
	}
	if target, err := os.Readlink(ptr); err == nil && target == rel {
		return nil // another process linked it meanwhile
	}
	src, err := os.Open(blob)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	defer src.Close()
	if err := atomicfile.Write(ptr, func(w io.Writer) error { _, err := io.Copy(w, src); return err }); err != nil {
		return fmt.Errorf("hub: copying %s to %s: %w", blob, ptr, err)
	}
	return nil
}

// markNoExist records, as huggingface_hub does, that a file is absent at a
// commit. It is a cache hint only, so failures are ignored.
func (s *session) markNoExist(commit, file string) {
	if !IsCommitHash(commit) {
		return
	}
	p := filepath.Join(s.repo, ".no_exist", commit, filepath.FromSlash(file))
	if os.MkdirAll(filepath.Dir(p), 0o755) == nil {
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.Close()
		}
	}
}
