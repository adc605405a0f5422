//go:build cuda

package cuda

import "gorgonia.org/cu"

// Built reports whether this binary was built with the `cuda` build tag.
const Built = true

// Available reports whether the CUDA driver sees at least one device, the
// device gorgonia's CUDA machine runs graphs on (device 0).
func Available() bool {
	n, err := cu.NumDevices()
	return err == nil && n > 0
}
