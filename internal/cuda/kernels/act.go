//go:build cuda

package kernels

import "gorgonia.org/cu"

// ReLU sets dst[i] = max(0, x[i]) for i < n, as kernel.ReLU (NaN stays NaN,
// −0 becomes +0). dst may be x.
func (l *Launcher) ReLU(dst, x cu.DevicePtr, n int) error { return errNotYet("ReLU") }

// ReLUBackward sets dx[i] = dy[i] where x[i] > 0 and 0 elsewhere, as
// kernel.ReLUBackward. dx may be dy.
func (l *Launcher) ReLUBackward(dx, x, dy cu.DevicePtr, n int) error {
	return errNotYet("ReLUBackward")
}

// GELU sets dst[i] = x[i]·Φ(x[i]) = x/2·(1 + erf(x/√2)), the exact GELU of
// torch's nn.GELU() and Hugging Face's "gelu", as kernel.GELU (which uses an
// erf approximation within 1.5e-7). dst may be x.
func (l *Launcher) GELU(dst, x cu.DevicePtr, n int) error { return errNotYet("GELU") }

// GELUBackward sets dx = dy·(Φ(x) + x·φ(x)), as kernel.GELUBackward. dx may
// be dy.
func (l *Launcher) GELUBackward(dx, x, dy cu.DevicePtr, n int) error {
	return errNotYet("GELUBackward")
}

// GELUNew sets dst[i] = gelu_new(x[i]) = 0.5·x·(1 + tanh(√(2/π)·(x +
// 0.044715·x³))), Hugging Face's "gelu_new", as kernel.GELUNew. dst may be
// x.
func (l *Launcher) GELUNew(dst, x cu.DevicePtr, n int) error { return errNotYet("GELUNew") }

// GELUNewBackward sets dx = dy·gelu_new'(x), as kernel.GELUNewBackward. dx
// may be dy.
func (l *Launcher) GELUNewBackward(dx, x, dy cu.DevicePtr, n int) error {
	return errNotYet("GELUNewBackward")
}

// GatedGELUNew sets dst[i] = gelu_new(a[i])·b[i], the gate of T5 v1.1's
// DenseGatedActDense, as kernel.GatedGELUNew. dst may be a or b.
func (l *Launcher) GatedGELUNew(dst, a, b cu.DevicePtr, n int) error {
	return errNotYet("GatedGELUNew")
}

// GatedGELUNewBackward sets da = dy·b·gelu_new'(a) and db = dy·gelu_new(a),
// the gradients of GatedGELUNew (either may be 0 to skip it; da may be dy,
// db may be dy when da is 0).
func (l *Launcher) GatedGELUNewBackward(da, db, a, b, dy cu.DevicePtr, n int) error {
	return errNotYet("GatedGELUNewBackward")
}
