//go:build !cuda

package devopt

import (
	"errors"

	"github.com/genq-go/genq/encoder/optim"
	G "gorgonia.org/gorgonia"
)

// errNoDevice is what every method of the default build's Optimizer says:
// New never returns one there.
var errNoDevice = errors.New("devopt: this build of genq runs on the CPU; it has no device optimizer")

// Optimizer clips gradients and applies AdamW on the GPU. In this build,
// made without the `cuda` tag, New returns none.
type Optimizer struct{}

// New returns nil: in this build training runs encoder/optim on the host.
func New(host *optim.AdamW, cfg optim.Config, maxGradNorm float64) (*Optimizer, error) {
	return nil, nil
}

// Feed fails: there is no device optimizer in this build.
func (o *Optimizer) Feed(grad *G.Node, param string) error { return errNoDevice }

// FeedRows fails: there is no device optimizer in this build.
func (o *Optimizer) FeedRows(grad *G.Node, param string, ids func() []int) error { return errNoDevice }

// Begin does nothing in this build (a training loop calls it on its nil
// Optimizer).
func (o *Optimizer) Begin() {}

// Step fails: there is no device optimizer in this build.
func (o *Optimizer) Step(lr float64) (float64, error) { return 0, errNoDevice }

// Download does nothing on the nil Optimizer (the host optimizer already
// holds the state) and fails otherwise: there is no device optimizer in this
// build.
func (o *Optimizer) Download() error {
	if o == nil {
		return nil
	}
	return errNoDevice
}

// Close does nothing in this build.
func (o *Optimizer) Close() error { return nil }
