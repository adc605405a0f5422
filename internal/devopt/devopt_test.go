//go:build !cuda

package devopt

import (
	"testing"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoDeviceOnCPU checks that the default build has no device optimizer:
// New returns none, so that Fit steps with encoder/optim, and a nil
// Optimizer's Begin and Close, which the training loops call regardless,
// do nothing.
func TestNoDeviceOnCPU(t *testing.T) {
	host, err := optim.NewAdamW(optim.DefaultConfig(), optim.Group{Params: []*optim.Param{{Name: "w", Data: []float32{1}}}})
	require.NoError(t, err)
	o, err := New(host, optim.DefaultConfig(), 1)
	require.NoError(t, err)
	assert.Nil(t, o)
	o.Begin()
	assert.NoError(t, o.Close())
	_, err = o.Step(1e-3)
	assert.ErrorIs(t, err, errNoDevice)
}
