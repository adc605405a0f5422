package hub

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The zero Options use the package's own client, never the process-wide
// http.DefaultClient (which other code may change).
func TestDefaultClientIsOwn(t *testing.T) {
	c := Options{}.resolve().client
	assert.NotNil(t, c)
	assert.NotSame(t, http.DefaultClient, c)
	assert.NotSame(t, http.DefaultTransport, c.Transport)
	own := &http.Client{}
	assert.Same(t, own, Options{Client: own}.resolve().client)
}

// The timeouts default as huggingface_hub's: the option, else the
// environment variable's seconds, else 10 s; negative turns them off.
func TestTimeoutDefaults(t *testing.T) {
	for _, tc := range []struct {
		opt  time.Duration
		env  string
		want time.Duration
	}{
		{0, "", DefaultTimeout},
		{0, "2.5", 2500 * time.Millisecond},
		{0, "not a number", DefaultTimeout},
		{0, "-3", DefaultTimeout},
		{3 * time.Second, "2.5", 3 * time.Second},
		{-1, "2.5", 0},
	} {
		t.Setenv("HF_HUB_ETAG_TIMEOUT", tc.env)
		t.Setenv("HF_HUB_DOWNLOAD_TIMEOUT", tc.env)
		c := Options{MetadataTimeout: tc.opt, StallTimeout: tc.opt}.resolve()
		assert.Equal(t, tc.want, c.metaWait, "MetadataTimeout %v, HF_HUB_ETAG_TIMEOUT %q", tc.opt, tc.env)
		assert.Equal(t, tc.want, c.stall, "StallTimeout %v, HF_HUB_DOWNLOAD_TIMEOUT %q", tc.opt, tc.env)
	}
}
