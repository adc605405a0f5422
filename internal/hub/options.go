package hub

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultEndpoint is the hub used when neither Options.Endpoint nor
// $HF_ENDPOINT names one.
const DefaultEndpoint = "https://huggingface.co"

// DefaultTimeout is huggingface_hub's default for both timeouts: how long a
// metadata request may wait for the server's answer
// (HF_HUB_ETAG_TIMEOUT), and how long a download may go without receiving
// a byte (HF_HUB_DOWNLOAD_TIMEOUT).
const DefaultTimeout = 10 * time.Second

// Options configures Download and DownloadModel. The zero value downloads
// from $HF_ENDPOINT (default https://huggingface.co) into CacheDir() with the
// token from $HF_TOKEN (or the file `huggingface-cli login` writes), goes
// offline when $HF_HUB_OFFLINE is set, waits DefaultTimeout (or
// $HF_HUB_ETAG_TIMEOUT / $HF_HUB_DOWNLOAD_TIMEOUT seconds) for the server,
// and draws no progress bar.
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
	// Progress receives one progress bar per downloaded file; nil draws none.
	Progress io.Writer
	// Client is the HTTP client to use; nil means a client of this package
	// (never http.DefaultClient) that honours the proxy variables.
	Client *http.Client
	// MetadataTimeout bounds each metadata request (connecting and waiting
	// for the answer's headers); 0 means $HF_HUB_ETAG_TIMEOUT seconds, else
	// DefaultTimeout; negative means no limit.
	MetadataTimeout time.Duration
	// StallTimeout fails a download that receives no byte for that long (the
	// download as a whole has no time limit); 0 means
	// $HF_HUB_DOWNLOAD_TIMEOUT seconds, else DefaultTimeout; negative means
	// no limit.
	StallTimeout time.Duration
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
	metaWait time.Duration // 0: no limit
	stall    time.Duration // 0: no limit
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
		metaWait: timeout(o.MetadataTimeout, "HF_HUB_ETAG_TIMEOUT"),
		stall:    timeout(o.StallTimeout, "HF_HUB_DOWNLOAD_TIMEOUT"),
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
		c.client = defaultClient()
	}
	switch {
	case c.retries == 0:
		c.retries = 5
	case c.retries < 0:
		c.retries = 0
	}
	return c
}

// timeout applies a timeout's defaults: d when set (negative: none), else
// the environment variable's seconds, else DefaultTimeout.
func timeout(d time.Duration, env string) time.Duration {
	switch {
	case d < 0:
		return 0
	case d > 0:
		return d
	}
	if s, err := strconv.ParseFloat(strings.TrimSpace(os.Getenv(env)), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return DefaultTimeout
}

// defaultClient is the package's own HTTP client: the settings of
// net/http's default transport (proxies from the environment, HTTP/2, idle
// connection reuse), shared by every download. Requests are bounded by
// their context (see Options.MetadataTimeout and StallTimeout), not by the
// client.
var defaultClient = sync.OnceValue(func() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
})

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
