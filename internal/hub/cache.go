// Package hub finds Hugging Face models in the local hub cache and downloads
// them into it, in exactly the layout Python's huggingface_hub uses, so that
// genq and Python tools share one cache:
//
//	<cache>/models--<org>--<name>/
//	    blobs/<etag>                  file contents, named by their ETag (the sha256 for LFS files)
//	    snapshots/<commit>/<file>     relative symlinks to ../../blobs/<etag>
//	    refs/<revision>               the commit a branch or tag pointed to
//	    .no_exist/<commit>/<file>     empty markers for files the repo lacks
//	<cache>/.locks/models--<org>--<name>/<etag>.lock
//	                                  locked while a blob downloads
//
// Concurrent downloads of one blob, by goroutines or by processes (genq's or
// huggingface_hub's), take turns on that lock (flock on Unix, LockFileEx on
// Windows, both as Python's filelock takes them); whoever comes second finds
// the blob done. The lock files stay, as huggingface_hub leaves them.
//
// The cache folder is $HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub. Downloads honour HF_ENDPOINT, HF_TOKEN,
// HF_HUB_OFFLINE, HF_HUB_ETAG_TIMEOUT and HF_HUB_DOWNLOAD_TIMEOUT as
// huggingface_hub does: a metadata request waits at most 10 s for an answer,
// a download fails after 10 s without a byte (after resuming a few times),
// and every request ends when its context is canceled.
package hub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultRevision is the revision used when none is given.
const DefaultRevision = "main"

// ErrNotCached is wrapped by the errors of Resolve and ResolveRevision when a
// model is not in the local cache.
var ErrNotCached = errors.New("not in the Hugging Face cache")

// CacheDir returns the hub cache folder: $HF_HUB_CACHE, else the legacy
// $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
func CacheDir() string {
	for _, v := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := os.Getenv(v); d != "" {
			return expandHome(d)
		}
	}
	return filepath.Join(hfHome(), "hub")
}

// hfHome returns $HF_HOME, else $XDG_CACHE_HOME/huggingface, else
// ~/.cache/huggingface.
func hfHome() string {
	if d := os.Getenv("HF_HOME"); d != "" {
		return expandHome(d)
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(expandHome(d), "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}

// repoIDPattern is huggingface_hub's rule for repository ids: an optional
// namespace and a name of word characters, '-' and '.', at most 96 each.
var repoIDPattern = regexp.MustCompile(`^(?:[\w.-]{1,96}/)?[\w.-]{1,96}$`)

// ValidRepoID reports whether id is a well-formed hub repository id such as
// "BeIR/query-gen-msmarco-t5-base-v1" or "t5-small".
func ValidRepoID(id string) bool {
	if !repoIDPattern.MatchString(id) || strings.Contains(id, "--") || strings.Contains(id, "..") || strings.HasSuffix(id, ".git") {
		return false
	}
	for _, part := range strings.Split(id, "/") {
		if strings.HasPrefix(part, "-") || strings.HasPrefix(part, ".") || strings.HasSuffix(part, "-") || strings.HasSuffix(part, ".") {
			return false
		}
	}
	return true
}

// RepoFolder returns the cache folder of a model repository,
// <cache>/models--<org>--<name>.
func RepoFolder(cacheDir, repoID string) string {
	return filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repoID, "/", "--"))
}

var commitPattern = regexp.MustCompile(`^[0-9a-f]{40}$`)

// IsCommitHash reports whether a revision is a full git commit hash.
func IsCommitHash(revision string) bool { return commitPattern.MatchString(revision) }

// validRevision rejects revisions that would escape refs/ once used as a path.
func validRevision(rev string) bool {
	if rev == "" || strings.HasPrefix(rev, "/") || strings.Contains(rev, `\`) {
		return false
	}
	for _, part := range strings.Split(rev, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

// Resolve turns a model argument into a folder: an existing folder is
// returned as is; otherwise nameOrDir must be a hub id ("org/name" or "name")
// whose "main" revision is in the local cache, and its snapshot folder is
// returned.
func Resolve(nameOrDir string) (string, error) {
	if isDir(nameOrDir) {
		return nameOrDir, nil
	}
	if !ValidRepoID(nameOrDir) {
		return "", notAModel(nameOrDir)
	}
	return ResolveRevision(nameOrDir, DefaultRevision)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func notAModel(nameOrDir string) error {
	return fmt.Errorf("hub: %q is neither an existing folder nor a hub model id like \"org/name\"", nameOrDir)
}

// checkRepo validates a repository id and a revision and returns the
// revision, "main" for "".
func checkRepo(id, revision string) (string, error) {
	if revision == "" {
		revision = DefaultRevision
	}
	if !ValidRepoID(id) {
		return "", fmt.Errorf("hub: %q is not a hub model id like \"org/name\"", id)
	}
	if !validRevision(revision) {
		return "", fmt.Errorf("hub: %q is not a valid revision (a branch, tag or commit hash)", revision)
	}
	return revision, nil
}

// ResolveRevision returns the cached snapshot folder of a hub model at a
// revision: a branch or tag is looked up in refs/<revision>, a 40-hex commit
// hash names the snapshot directly. An empty revision means "main".
func ResolveRevision(id, revision string) (string, error) {
	revision, err := checkRepo(id, revision)
	if err != nil {
		return "", err
	}
	return resolveIn(CacheDir(), id, revision)
}

// resolveIn is ResolveRevision in the cache folder cache, for a valid id and
// revision.
func resolveIn(cache, id, revision string) (string, error) {
	repo := RepoFolder(cache, id)
	fix := fmt.Sprintf("genq's t5.Load and encoder.Load download it when HF_HUB_OFFLINE is unset; or run `huggingface-cli download %s --revision %s`, or set HF_HUB_CACHE / HF_HOME to the cache that holds it", id, revision)
	if _, err := os.Stat(repo); err != nil {
		return "", fmt.Errorf("hub: model %s is %w: looked for %s in the cache %s; %s", id, ErrNotCached, filepath.Base(repo), cache, fix)
	}
	commit, err := cachedCommit(repo, revision)
	if err != nil {
		return "", fmt.Errorf("hub: revision %q of model %s is %w: %v; %s", revision, id, ErrNotCached, err, fix)
	}
	snap := filepath.Join(repo, "snapshots", commit)
	if st, err := os.Stat(snap); err != nil || !st.IsDir() {
		return "", fmt.Errorf("hub: revision %q of model %s is %w: no snapshot folder %s; %s", revision, id, ErrNotCached, snap, fix)
	}
	return snap, nil
}

// cachedCommit maps a revision to a commit through refs/, or returns a commit
// hash as is.
func cachedCommit(repo, revision string) (string, error) {
	if IsCommitHash(revision) {
		return revision, nil
	}
	ref := filepath.Join(repo, "refs", filepath.FromSlash(revision))
	b, err := os.ReadFile(ref)
	if err != nil {
		return "", fmt.Errorf("no ref file %s", ref)
	}
	commit := strings.TrimSpace(string(b))
	if !IsCommitHash(commit) {
		return "", fmt.Errorf("ref file %s holds %q, not a commit hash", ref, commit)
	}
	return commit, nil
}
