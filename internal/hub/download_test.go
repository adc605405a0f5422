package hub_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/hub"
)

const repoID = "org/model"

// repoFiles is a small repository: plain git files and LFS files.
func repoFiles() map[string][]byte {
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	return map[string][]byte{
		"config.json":           []byte(`{"model_type":"t5"}`),
		"model.safetensors":     big,
		"1_Pooling/config.json": []byte(`{"pooling_mode_mean_tokens":true}`),
		"spiece.model":          bytes.Repeat([]byte("piece"), 1000),
	}
}

func newRepo(t *testing.T) (*fakeHub, hub.Options, string) {
	tmp := isolate(t)
	f := newFakeHub(t, repoID, repoFiles())
	f.set(func(f *fakeHub) { f.lfs["model.safetensors"], f.lfs["spiece.model"] = true, true })
	cache := filepath.Join(tmp, "cache")
	return f, hub.Options{Endpoint: f.hub.URL, CacheDir: cache}, cache
}

// checkSnapshot verifies the huggingface_hub layout for each file: a relative
// symlink into blobs/<etag> with the right content.
func checkSnapshot(t *testing.T, f *fakeHub, snap string, files ...string) {
	t.Helper()
	for _, file := range files {
		p := filepath.Join(snap, filepath.FromSlash(file))
		target, err := os.Readlink(p)
		if err != nil {
			t.Errorf("%s: not a symlink: %v", file, err)
			continue
		}
		etag := gitBlobID(f.files[file])
		if f.lfs[file] {
			etag = sha256Hex(f.files[file])
		}
		want := strings.Repeat("../", 2+strings.Count(file, "/")) + "blobs/" + etag
		if target != filepath.FromSlash(want) {
			t.Errorf("%s links to %s, want %s", file, target, want)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, f.files[file]) {
			t.Errorf("%s: content differs (%d bytes, want %d; %v)", file, len(got), len(f.files[file]), err)
		}
	}
}

func noPartialFiles(t *testing.T, cache string) {
	t.Helper()
	filepath.Walk(cache, func(p string, info os.FileInfo, err error) error {
		if err == nil && (strings.HasSuffix(p, ".incomplete") || strings.Contains(filepath.Base(p), ".tmp-")) {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

func TestDownloadLayout(t *testing.T) {
	f, opts, cache := newRepo(t)
	files := []string{"config.json", "model.safetensors", "1_Pooling/config.json"}
	snap, err := hub.Download(context.Background(), repoID, "", files, opts)
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(cache, "models--org--model")
	if want := filepath.Join(repo, "snapshots", fakeCommit); snap != want {
		t.Fatalf("snapshot %s, want %s", snap, want)
	}
	checkSnapshot(t, f, snap, files...)
	if ref, err := os.ReadFile(filepath.Join(repo, "refs", "main")); err != nil || string(ref) != fakeCommit {
		t.Errorf("refs/main = %q, %v; want the commit without newline", ref, err)
	}
	noPartialFiles(t, cache)
	// The LFS file came from the CDN, without the (absent) token; later files
	// were asked for at the pinned commit.
	if len(f.requests("GET cdn /blobs/model.safetensors")) != 1 {
		t.Errorf("requests: %v", f.log)
	}
	if len(f.requests("HEAD hub /org/model/resolve/"+fakeCommit+"/1_Pooling/config.json")) != 1 {
		t.Errorf("the third file was not asked for at the pinned commit: %v", f.log)
	}

	// Resolve finds the snapshot through the same cache.
	t.Setenv("HF_HUB_CACHE", cache)
	if got, err := hub.Resolve(repoID); err != nil || got != snap {
		t.Errorf("Resolve = %q, %v; want %q", got, err, snap)
	}

	// A second download only asks for metadata.
	before := len(f.requests("GET"))
	if _, err := hub.Download(context.Background(), repoID, "main", files, opts); err != nil {
		t.Fatal(err)
	}
	if after := len(f.requests("GET")); after != before {
		t.Errorf("cached files were fetched again: %v", f.log)
	}
}

func TestDownloadOptionalAndMissing(t *testing.T) {
	f, opts, cache := newRepo(t)
	opts.Optional = []string{"pytorch_model.bin"}
	snap, err := hub.Download(context.Background(), repoID, "main", []string{"pytorch_model.bin", "config.json"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, "config.json")
	if _, err := os.Lstat(filepath.Join(snap, "pytorch_model.bin")); err == nil {
		t.Error("the missing optional file has a snapshot entry")
	}
	if _, err := os.Stat(filepath.Join(cache, "models--org--model", ".no_exist", fakeCommit, "pytorch_model.bin")); err != nil {
		t.Errorf("no .no_exist marker: %v", err)
	}
	_, err = hub.Download(context.Background(), repoID, "main", []string{"config.json", "pytorch_model.bin"}, hub.Options{Endpoint: opts.Endpoint, CacheDir: cache})
	if err == nil || !strings.Contains(err.Error(), `pytorch_model.bin is not in org/model at revision`) || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing required file: error %v", err)
	}
	_, err = hub.Download(context.Background(), repoID, "v9", []string{"config.json"}, opts)
	if err == nil || !strings.Contains(err.Error(), `revision "v9" of org/model does not exist`) {
		t.Errorf("missing revision: error %v", err)
	}
	_, err = hub.Download(context.Background(), "org/other", "", []string{"config.json"}, opts)
	if err == nil || !strings.Contains(err.Error(), "repository org/other does not exist") {
		t.Errorf("missing repository: error %v", err)
	}
	_, err = hub.Download(context.Background(), repoID, "", []string{"../etc/passwd"}, opts)
	if err == nil || !strings.Contains(err.Error(), "not a file path inside a repository") {
		t.Errorf("escaping file name: error %v", err)
	}
}

func TestDownloadAuth(t *testing.T) {
	f, opts, _ := newRepo(t)
	f.set(func(f *fakeHub) { f.token = "hf_secret" })
	files := []string{"config.json", "model.safetensors"}
	_, err := hub.Download(context.Background(), repoID, "", files, opts)
	if err == nil || !strings.Contains(err.Error(), "HTTP 401") || !strings.Contains(err.Error(), "set HF_TOKEN") {
		t.Fatalf("without a token: error %v", err)
	}
	t.Setenv("HF_TOKEN", "hf_secret")
	snap, err := hub.Download(context.Background(), repoID, "", files, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, files...)
	if got := f.requests("hub", "auth=Bearer hf_secret"); len(got) < 2 {
		t.Errorf("the hub did not get the token: %v", f.log)
	}
	if got := f.requests("cdn", "auth=Bearer"); len(got) != 0 {
		t.Errorf("the token leaked to the CDN: %v", got)
	}
}

func TestDownloadResumesDroppedConnection(t *testing.T) {
	f, opts, cache := newRepo(t)
	f.set(func(f *fakeHub) { f.dropOnce["model.safetensors"] = true })
	snap, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, "model.safetensors")
	half := len(f.files["model.safetensors"]) / 2
	if got := f.requests("GET cdn", "range=bytes="); len(got) != 1 || !strings.Contains(got[0], "range=bytes=150000-") {
		t.Errorf("want one resumed request from byte %d, got %v", half, f.log)
	}
	noPartialFiles(t, cache)
}

func TestDownloadResumesPartialFile(t *testing.T) {
	f, opts, cache := newRepo(t)
	content := f.files["model.safetensors"]
	blobs := filepath.Join(cache, "models--org--model", "blobs")
	os.MkdirAll(blobs, 0o755)
	os.WriteFile(filepath.Join(blobs, sha256Hex(content)+".incomplete"), content[:1234], 0o644)
	snap, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, snap, "model.safetensors")
	if got := f.requests("GET cdn"); len(got) != 1 || !strings.Contains(got[0], "range=bytes=1234-") {
		t.Errorf("want one request from byte 1234, got %v", got)
	}
}

func TestDownloadRejectsWrongSHA256(t *testing.T) {
	f, opts, cache := newRepo(t)
	f.set(func(f *fakeHub) { f.badSHA["model.safetensors"] = true })
	_, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts)
	if err == nil || !strings.Contains(err.Error(), "sha256 check failed") {
		t.Fatalf("error %v, want a sha256 mismatch", err)
	}
	repo := filepath.Join(cache, "models--org--model")
	entries, _ := os.ReadDir(filepath.Join(repo, "blobs"))
	if len(entries) != 0 {
		t.Errorf("blobs/ holds %d entries after a failed download", len(entries))
	}
	if _, err := os.Lstat(filepath.Join(repo, "snapshots", fakeCommit, "model.safetensors")); err == nil {
		t.Error("a snapshot entry points at a rejected download")
	}
}

func TestDownloadOffline(t *testing.T) {
	f, opts, _ := newRepo(t)
	files := []string{"config.json", "model.safetensors"}
	snap, err := hub.Download(context.Background(), repoID, "", files, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.hub.Close()
	f.cdn.Close()

	t.Run("HF_HUB_OFFLINE", func(t *testing.T) {
		t.Setenv("HF_HUB_OFFLINE", "1")
		got, err := hub.Download(context.Background(), repoID, "main", files, opts)
		if err != nil || got != snap {
			t.Fatalf("got %q, %v; want %q", got, err, snap)
		}
		_, err = hub.Download(context.Background(), repoID, "main", []string{"spiece.model"}, opts)
		if err == nil || !strings.Contains(err.Error(), "HF_HUB_OFFLINE is set and spiece.model of org/model") {
			t.Errorf("uncached file: error %v", err)
		}
		_, err = hub.Download(context.Background(), "org/never", "main", files, opts)
		if err == nil || !strings.Contains(err.Error(), `revision "main" of org/never is not in the cache`) {
			t.Errorf("uncached repository: error %v", err)
		}
	})
	t.Run("unreachable hub", func(t *testing.T) {
		got, err := hub.Download(context.Background(), repoID, "main", files, opts)
		if err != nil || got != snap {
			t.Fatalf("got %q, %v; want the cached %q", got, err, snap)
		}
		_, err = hub.Download(context.Background(), repoID, "main", []string{"spiece.model"}, opts)
		if err == nil || !strings.Contains(err.Error(), "cannot be reached") {
			t.Errorf("uncached file: error %v", err)
		}
	})
}

func TestDownloadEnvironment(t *testing.T) {
	f, _, _ := newRepo(t)
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	t.Setenv("HF_ENDPOINT", f.hub.URL+"/")
	snap, err := hub.Download(context.Background(), repoID, fakeCommit, []string{"config.json"}, hub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(home, "hub", "models--org--model")
	if snap != filepath.Join(repo, "snapshots", fakeCommit) {
		t.Errorf("snapshot %s is not under $HF_HOME/hub", snap)
	}
	if _, err := os.Stat(filepath.Join(repo, "refs")); err == nil {
		t.Error("a download at a commit hash wrote a ref")
	}
	checkSnapshot(t, f, snap, "config.json")
}

func TestDownloadProgress(t *testing.T) {
	_, opts, _ := newRepo(t)
	var out bytes.Buffer
	opts.Progress = &out
	if _, err := hub.Download(context.Background(), repoID, "", []string{"model.safetensors"}, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "model.safetensors") {
		t.Errorf("progress output %q does not name the file", out.String())
	}
}

func TestDownloadCanceled(t *testing.T) {
	_, opts, _ := newRepo(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := hub.Download(ctx, repoID, "", []string{"config.json"}, opts)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("error %v, want context canceled", err)
	}
}
