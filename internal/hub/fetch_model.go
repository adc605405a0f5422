package hub

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Fetch is what from_pretrained does with a model argument: an existing
// folder is returned as it is; a hub id whose snapshot at revision ("" means
// "main") is complete in the cache is returned without asking the network;
// otherwise the model is downloaded into the cache (see DownloadModel), which
// completes a partial snapshot (say, one holding only the tokenizer files)
// by fetching the missing files. Offline (Options.Offline or
// $HF_HUB_OFFLINE), a snapshot that lacks what Load needs is an error naming
// the missing files.
func Fetch(ctx context.Context, nameOrDir, revision string, kind ModelKind, opts Options) (string, error) {
	if isDir(nameOrDir) {
		return nameOrDir, nil
	}
	if !ValidRepoID(nameOrDir) {
		return "", notAModel(nameOrDir)
	}
	revision, err := checkRepo(nameOrDir, revision)
	if err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("hub: loading %s: %w", nameOrDir, err)
	}
	cfg := opts.resolve()
	snap, err := resolveIn(cfg.cacheDir, nameOrDir, revision)
	var missing, unknown []string
	if err == nil {
		missing, unknown = snapshotGaps(snap, kind)
		if len(missing)+len(unknown) == 0 || (cfg.offline && len(missing) == 0) {
			return snap, nil
		}
	}
	if cfg.offline {
		why := "HF_HUB_OFFLINE is set"
		if opts.Offline {
			why = "the Offline option is set"
		}
		if err != nil {
			return "", fmt.Errorf("%w (%s, so genq did not try to download it)", err, why)
		}
		return "", fmt.Errorf("hub: the cached snapshot %s of %s (revision %q) lacks %s, and %s, so genq did not try to download them: %w",
			snap, nameOrDir, revision, strings.Join(missing, ", "), why, ErrNotCached)
	}
	dir, derr := DownloadModel(ctx, nameOrDir, revision, kind, opts)
	if derr != nil {
		what := "is not in the local cache"
		if err == nil {
			what = fmt.Sprintf("is only partly in the local cache (%s lacks %s)", snap, strings.Join(append(missing, unknown...), ", "))
		}
		return "", fmt.Errorf("hub: %s %s and downloading it failed: %w", nameOrDir, what, derr)
	}
	return dir, nil
}

// snapshotGaps compares a cached snapshot with what DownloadModel fetches
// for kind. missing are files a model cannot load without: config.json, a
// weight file (with the shards its index names) and a tokenizer. unknown
// are optional files that are neither in the snapshot nor recorded as absent
// from the repository (.no_exist): a download would ask for them.
func snapshotGaps(snap string, kind ModelKind) (missing, unknown []string) {
	have := func(f string) bool {
		_, err := os.Stat(filepath.Join(snap, filepath.FromSlash(f)))
		return err == nil
	}
	commit := filepath.Base(snap)
	noExist := filepath.Join(filepath.Dir(filepath.Dir(snap)), ".no_exist", commit)
	absent := func(f string) bool {
		_, err := os.Stat(filepath.Join(noExist, filepath.FromSlash(f)))
		return err == nil
	}
	required, optional := ModelFiles(kind)
	for _, f := range required {
		if !have(f) {
			missing = append(missing, f)
		}
	}
	if !hasWeights(snap, "", have) {
		missing = append(missing, "weights ("+strings.Join(WeightFiles, " or ")+")")
	}
	tok := tokenizerFiles(kind)
	if !have(tok[0]) && !have(tok[1]) {
		missing = append(missing, "a tokenizer ("+tok[0]+" or "+tok[1]+")")
	}
	for _, f := range optional {
		if !have(f) && !absent(f) {
			unknown = append(unknown, f)
		}
	}
	if kind == SentenceTransformer && have("modules.json") {
		mods, err := readModules(filepath.Join(snap, "modules.json"))
		if err != nil {
			return append(missing, "a readable modules.json"), unknown
		}
		for _, m := range mods {
			if f := path.Join(m.Path, "config.json"); m.Path != "" && !have(f) && !absent(f) {
				unknown = append(unknown, f)
			}
		}
	}
	return missing, unknown
}

// hasWeights reports whether the folder dir of a snapshot holds one of
// WeightFiles, with every shard of an index.
func hasWeights(snap, dir string, have func(string) bool) bool {
	for _, w := range WeightFiles {
		f := path.Join(dir, w)
		if !have(f) {
			continue
		}
		if !strings.HasSuffix(w, ".index.json") {
			return true
		}
		shards, err := readShards(filepath.Join(snap, filepath.FromSlash(f)))
		if err != nil {
			continue
		}
		all := true
		for _, sh := range shards {
			all = all && have(path.Join(dir, sh))
		}
		if all {
			return true
		}
	}
	return false
}
