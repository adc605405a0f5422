// Package hub holds what t5.Load, encoder.Load and encoder.LoadCrossEncoder
// accept about where a model comes from, as the keyword arguments of
// Hugging Face's from_pretrained do: the revision, the token, the endpoint, the cache
// folder, offline mode, the HTTP client, a progress writer and the
// timeouts. Fetch brings a model into the local Hugging Face cache without
// loading it.
//
// # Defaults
//
// The zero Options behave as huggingface_hub does: the endpoint is
// $HF_ENDPOINT (else https://huggingface.co), the cache $HF_HUB_CACHE
// (else $HF_HOME/hub, else ~/.cache/huggingface/hub), the token $HF_TOKEN
// (else the file `huggingface-cli login` writes), offline when
// $HF_HUB_OFFLINE is set, and both timeouts 10 s ($HF_HUB_ETAG_TIMEOUT,
// $HF_HUB_DOWNLOAD_TIMEOUT). The cache is shared with Python's
// huggingface_hub, in its layout.
//
// # Timeouts and cancellation
//
// Every request honours the context. A metadata request (which file is at
// which commit) fails when the server has not answered within
// MetadataTimeout; a download fails when no byte arrived for StallTimeout,
// however long the whole download takes (a download that broke off is
// resumed where it stopped, a few times, before it fails).
package hub

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	ihub "github.com/genq-go/genq/internal/hub"
)

// Options says where a model comes from and how it is fetched. The zero
// value follows the environment as huggingface_hub does (see the package
// documentation).
type Options struct {
	// Revision is the branch, tag or commit hash to load ("" means "main"),
	// as from_pretrained's revision. It is ignored for a local folder.
	Revision string
	// Token authenticates to the hub (private and gated models), overriding
	// $HF_TOKEN. It is sent to the endpoint only, never to the CDN a
	// download is redirected to.
	Token string
	// Endpoint is the hub's URL, overriding $HF_ENDPOINT.
	Endpoint string
	// CacheDir is the hub cache folder, overriding $HF_HUB_CACHE and
	// $HF_HOME.
	CacheDir string
	// Offline uses the cache only, as $HF_HUB_OFFLINE=1 does (which also
	// applies when Offline is false).
	Offline bool
	// Client sends the requests; nil means a client of genq's own (never
	// http.DefaultClient) that honours the proxy variables.
	Client *http.Client
	// Progress receives a progress bar per downloaded file (os.Stderr, say);
	// nil draws none.
	Progress io.Writer
	// MetadataTimeout bounds each metadata request, connecting and waiting
	// for the answer; 0 means $HF_HUB_ETAG_TIMEOUT seconds, else 10 s;
	// negative means no limit.
	MetadataTimeout time.Duration
	// StallTimeout fails a download that receives no byte for that long
	// (the download as a whole has no limit); 0 means
	// $HF_HUB_DOWNLOAD_TIMEOUT seconds, else 10 s; negative means no limit.
	StallTimeout time.Duration
}

// Kind says which library a model is for, and so which files it needs.
type Kind int

const (
	// T5 is a transformers T5ForConditionalGeneration, as t5.Load reads it.
	T5 = Kind(ihub.T5)
	// SentenceTransformer is a sentence-transformers bi-encoder (or a plain
	// BERT / DistilBERT), as encoder.Load reads it.
	SentenceTransformer = Kind(ihub.SentenceTransformer)
	// CrossEncoder is a sentence-transformers CrossEncoder (a transformers
	// BertForSequenceClassification and its tokenizer), as
	// encoder.LoadCrossEncoder reads it.
	CrossEncoder = Kind(ihub.CrossEncoder)
)

// String names the kind.
func (k Kind) String() string {
	if !k.valid() {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return ihub.ModelKind(k).String()
}

func (k Kind) valid() bool { return k == T5 || k == SentenceTransformer || k == CrossEncoder }

// Fetch returns a local folder holding the model nameOrDir, as
// from_pretrained finds it: an existing folder as it is; a hub id ("org/name")
// whose snapshot at opts.Revision is complete in the cache, without asking
// the network; otherwise the files a model of that kind needs (config,
// weights, tokenizer, sentence-transformers modules) are downloaded into the
// cache, completing a partial snapshot, and the snapshot folder is returned.
// Offline, a missing model or file is an error that names it.
func Fetch(ctx context.Context, nameOrDir string, kind Kind, opts Options) (string, error) {
	if !kind.valid() {
		return "", fmt.Errorf("hub: unknown model kind %v (use hub.T5, hub.SentenceTransformer or hub.CrossEncoder)", kind)
	}
	return ihub.Fetch(ctx, nameOrDir, opts.Revision, ihub.ModelKind(kind), ihub.Options{
		Endpoint:        opts.Endpoint,
		CacheDir:        opts.CacheDir,
		Token:           opts.Token,
		Offline:         opts.Offline,
		Progress:        opts.Progress,
		Client:          opts.Client,
		MetadataTimeout: opts.MetadataTimeout,
		StallTimeout:    opts.StallTimeout,
	})
}
