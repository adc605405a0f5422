package hub

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// DefaultEndpoint is the hub used when neither Options.Endpoint nor
// $HF_ENDPOINT names one.
const DefaultEndpoint = "https://huggingface.co"

// Options configures Download and DownloadModel. The zero value downloads
// from $HF_ENDPOINT (default https://huggingface.co) into CacheDir() with the
// token from $HF_TOKEN (or the file `huggingface-cli login` writes), goes
// offline when $HF_HUB_OFFLINE is set, and draws no progress bar.
type Options struct {
	// Endpoint overrides $HF_ENDPOINT.
	Endpoint string
	// CacheDir overrides CacheDir().
	CacheDir string
	// Token overrides $HF_TOKEN; it is sent as "Authorization: Bearer <token>"
	// to the endpoint only, never to the CDN a download is redirected to.
	Token string
	// Offline serves files from the cache only, as $HF_HUB_OFFLINE=1 does.
	Offline bool
	// Optional lists requested files that the repository may lack: a 404 for
	// them is skipped instead of failing the download.
	Optional []string
	// Progress receives one progress bar per downloaded file (os.Stderr on a
	// terminal); nil draws none.
	Progress io.Writer
	// Client is the HTTP client to use; nil means http.DefaultClient.
	Client *http.Client
	// Retries is how many times a download that broke off is resumed with
	// an HTTP Range request; 0 means 5, negative means none.
	Retries int
}

// config is Options with the environment's defaults applied.
type config struct {
	endpoint string
	cacheDir string
	token    string
	offline  bool
	optional map[string]bool
	progress io.Writer
	client   *http.Client
	retries  int
}

func (o Options) resolve() config {
	c := config{
		endpoint: o.Endpoint,
		cacheDir: o.CacheDir,
		token:    o.Token,
		offline:  o.Offline || isTrue(os.Getenv("HF_HUB_OFFLINE")),
		optional: map[string]bool{},
		progress: o.Progress,
		client:   o.Client,
		retries:  o.Retries,
	}
	if c.endpoint == "" {
		c.endpoint = os.Getenv("HF_ENDPOINT")
	}
	if c.endpoint == "" {
		c.endpoint = DefaultEndpoint
	}
	c.endpoint = strings.TrimRight(c.endpoint, "/")
	if c.cacheDir == "" {
		c.cacheDir = CacheDir()
	}
	if c.token == "" {
		c.token = envToken()
	}
	for _, f := range o.Optional {
		c.optional[f] = true
	}
	if c.client == nil {
		c.client = http.DefaultClient
	}
	switch {
	case c.retries == 0:
		c.retries = 5
	case c.retries < 0:
		c.retries = 0
	}
	return c
}

// envToken returns $HF_TOKEN, else the token file ($HF_TOKEN_PATH, else
// $HF_HOME/token) that `huggingface-cli login` writes, else "".
func envToken() string {
	if t := strings.TrimSpace(os.Getenv("HF_TOKEN")); t != "" {
		return t
	}
	path := os.Getenv("HF_TOKEN_PATH")
	if path == "" {
		path = filepath.Join(hfHome(), "token")
	}
	b, err := os.ReadFile(expandHome(path))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// isTrue reads a boolean environment variable as huggingface_hub does.
func isTrue(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}
