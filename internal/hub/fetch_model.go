package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Fetch is what from_pretrained does with a model argument: an existing
// folder, or a hub id already in the cache, is returned as it is; a hub id
// that is not cached is downloaded (with a progress bar on stderr) into the
// cache, unless $HF_HUB_OFFLINE is set. The downloaded files are those
// DownloadModel fetches for kind.
func Fetch(ctx context.Context, nameOrDir string, kind ModelKind) (string, error) {
	dir, err := Resolve(nameOrDir)
	if err == nil || !errors.Is(err, ErrNotCached) {
		return dir, err
	}
	opts := Options{Progress: os.Stderr}
	if opts.resolve().offline {
		return "", fmt.Errorf("%w (HF_HUB_OFFLINE is set, so genq did not try to download it)", err)
	}
	dir, derr := DownloadModel(ctx, nameOrDir, DefaultRevision, kind, opts)
	if derr != nil {
		return "", fmt.Errorf("hub: %s is not in the local cache and downloading it failed: %w", nameOrDir, derr)
	}
	return dir, nil
}
