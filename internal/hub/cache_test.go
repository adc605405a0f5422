package hub_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/hub"
)

// isolate points every Hugging Face variable at t's temporary folder (and the
// endpoint at a closed port), so no test sees the real cache, token or hub.
func isolate(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("HOME", filepath.Join(tmp, "home"))
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HF_HOME", filepath.Join(tmp, "hf"))
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HUGGINGFACE_HUB_CACHE", "")
	t.Setenv("HF_TOKEN", "")
	t.Setenv("HF_TOKEN_PATH", filepath.Join(tmp, "no-token"))
	t.Setenv("HF_HUB_OFFLINE", "")
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:1")
	return tmp
}

func TestCacheDir(t *testing.T) {
	tmp := isolate(t)
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, filepath.Join(tmp, "home", ".cache", "huggingface", "hub")},
		{"XDG_CACHE_HOME", map[string]string{"HF_HOME": "", "XDG_CACHE_HOME": "/x"}, "/x/huggingface/hub"},
		{"HF_HOME", map[string]string{"HF_HOME": "/h", "XDG_CACHE_HOME": "/x"}, "/h/hub"},
		{"legacy HUGGINGFACE_HUB_CACHE", map[string]string{"HF_HOME": "/h", "HUGGINGFACE_HUB_CACHE": "/old"}, "/old"},
		{"HF_HUB_CACHE wins", map[string]string{"HF_HOME": "/h", "HUGGINGFACE_HUB_CACHE": "/old", "HF_HUB_CACHE": "/c"}, "/c"},
		{"~ expands", map[string]string{"HF_HUB_CACHE": "~/c"}, filepath.Join(tmp, "home", "c")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HF_HOME", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			assert.Equal(t, tc.want, hub.CacheDir())
		})
	}
}

const commitA = "0123456789abcdef0123456789abcdef01234567"
const commitB = "89abcdef0123456789abcdef0123456789abcdef"

// fakeCache builds models--org--name with refs/main → commitA and snapshots
// for commitA and commitB.
func fakeCache(t *testing.T, cache, id string) {
	t.Helper()
	repo := hub.RepoFolder(cache, id)
	for _, c := range []string{commitA, commitB} {
		require.NoError(t, os.MkdirAll(filepath.Join(repo, "snapshots", c), 0o755))
	}
	os.MkdirAll(filepath.Join(repo, "refs", "refs", "pr"), 0o755)
	os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commitA), 0o644)
	os.WriteFile(filepath.Join(repo, "refs", "refs", "pr", "1"), []byte(commitB+"\n"), 0o644)
	os.WriteFile(filepath.Join(repo, "refs", "broken"), []byte("not-a-commit"), 0o644)
}

func TestResolve(t *testing.T) {
	tmp := isolate(t)
	cache := filepath.Join(tmp, "cache")
	t.Setenv("HF_HUB_CACHE", cache)
	fakeCache(t, cache, "BeIR/query-gen")
	fakeCache(t, cache, "t5-small")
	local := t.TempDir()
	snap := func(id, c string) string { return filepath.Join(hub.RepoFolder(cache, id), "snapshots", c) }

	tests := []struct {
		name, arg, rev string
		want           string
		wantErr        []string
	}{
		{"existing folder", local, "", local, nil},
		{"org/name", "BeIR/query-gen", "", snap("BeIR/query-gen", commitA), nil},
		{"name without org", "t5-small", "", snap("t5-small", commitA), nil},
		{"commit hash", "BeIR/query-gen", commitB, snap("BeIR/query-gen", commitB), nil},
		{"ref with slashes", "BeIR/query-gen", "refs/pr/1", snap("BeIR/query-gen", commitB), nil},
		{"not cached", "org/missing", "", "", []string{"org/missing", "models--org--missing", cache, "huggingface-cli download org/missing", "huggingface-cli download"}},
		{"missing ref", "BeIR/query-gen", "v2", "", []string{`revision "v2"`, filepath.Join("refs", "v2"), "huggingface-cli download BeIR/query-gen --revision v2"}},
		{"broken ref", "BeIR/query-gen", "broken", "", []string{"not a commit hash"}},
		{"commit without snapshot", "BeIR/query-gen", strings.Repeat("f", 40), "", []string{"no snapshot folder"}},
		{"missing folder, not an id", "./no/such/dir", "", "", []string{"neither an existing folder nor a hub model id"}},
		{"escaping revision", "BeIR/query-gen", "../../x", "", []string{"not a valid revision"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			var err error
			if tc.rev == "" {
				got, err = hub.Resolve(tc.arg)
			} else {
				got, err = hub.ResolveRevision(tc.arg, tc.rev)
			}
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
				return
			}
			require.Error(t, err, "got %q", got)
			for _, w := range tc.wantErr {
				assert.ErrorContains(t, err, w)
			}
		})
	}
	_, err := hub.Resolve("org/missing")
	assert.ErrorIs(t, err, hub.ErrNotCached)
}

func TestValidRepoID(t *testing.T) {
	for id, want := range map[string]bool{
		"BeIR/query-gen-msmarco-t5-base-v1": true, "t5-small": true, "sentence-transformers/all-MiniLM-L6-v2": true,
		"a/b/c": false, "../x": false, "a--b/c": false, "org/.hidden": false, "": false, "org/x.git": false, "/abs": false,
	} {
		assert.Equal(t, want, hub.ValidRepoID(id), "ValidRepoID(%q)", id)
	}
}
