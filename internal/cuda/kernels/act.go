//go:build cuda

package kernels

import "gorgonia.org/cu"

// ReLU sets dst[i] = max(0, x[i]) for i < n, as kernel.ReLU (NaN stays NaN,
// −0 becomes +0). dst may be x.
func (l *Launcher) ReLU(dst, x cu.DevicePtr, n int) error {
	return l.elementwise(kReLU, "ReLU", n, dst, x)
}

// ReLUBackward sets dx[i] = dy[i] where x[i] > 0 and 0 elsewhere, as
// kernel.ReLUBackward. dx may be dy.
func (l *Launcher) ReLUBackward(dx, x, dy cu.DevicePtr, n int) error {
	return l.elementwise(kReLUBackward, "ReLUBackward", n, dx, x, dy)
}

// GELU sets dst[i] = x[i]·Φ(x[i]) = x/2·(1 + erf(x/√2)), the exact GELU of
// torch's nn.GELU() and Hugging Face's "gelu", in float32 as torch's CUDA
// kernel computes it; kernel.GELU computes it in float64 with an erf
// approximation within 1.5e-7. dst may be x.
func (l *Launcher) GELU(dst, x cu.DevicePtr, n int) error {
	return l.elementwise(kGELU, "GELU", n, dst, x)
}

// GELUBackward sets dx = dy·(Φ(x) + x·φ(x)), as kernel.GELUBackward (in
// float32). dx may be dy.
func (l *Launcher) GELUBackward(dx, x, dy cu.DevicePtr, n int) error {
	return l.elementwise(kGELUBackward, "GELUBackward", n, dx, x, dy)
}

// GELUNew sets dst[i] = gelu_new(x[i]) = 0.5·x·(1 + tanh(√(2/π)·(x +
// 0.044715·x³))), Hugging Face's "gelu_new", as kernel.GELUNew (in
// float32). dst may be x.
func (l *Launcher) GELUNew(dst, x cu.DevicePtr, n int) error {
	return l.elementwise(kGELUNew, "GELUNew", n, dst, x)
}

// GELUNewBackward sets dx = dy·gelu_new'(x), as kernel.GELUNewBackward (in
// float32). dx may be dy.
func (l *Launcher) GELUNewBackward(dx, x, dy cu.DevicePtr, n int) error {
	return l.elementwise(kGELUNewBackward, "GELUNewBackward", n, dx, x, dy)
}

// GatedGELUNew sets dst[i] = gelu_new(a[i])·b[i], the gate of T5 v1.1's
// DenseGatedActDense, as kernel.GatedGELUNew. dst may be a or b.
func (l *Launcher) GatedGELUNew(dst, a, b cu.DevicePtr, n int) error {
	return l.elementwise(kGatedGELUNew, "GatedGELUNew", n, dst, a, b)
}

// GatedGELUNewBackward sets da = dy·b·gelu_new'(a) and db = dy·gelu_new(a),
// the gradients of GatedGELUNew; either may be 0 to skip it, and either may
// be dy (each element is read before it is written).
func (l *Launcher) GatedGELUNewBackward(da, db, a, b, dy cu.DevicePtr, n int) error {
	if err := checkSizes("GatedGELUNewBackward", n); err != nil || n == 0 {
		return err
	}
	if err := need("GatedGELUNewBackward", a, b, dy); err != nil {
		return err
	}
	return l.launch(kGatedGELUNewBackward, elemGrid(n), dims{block, 1, 1}, da, db, a, b, dy, n)
}

// Fill sets dst[i] = v for i < n (Fill(dst, n, 0) clears a gradient before
// ScatterAdd).
func (l *Launcher) Fill(dst cu.DevicePtr, n int, v float32) error {
	if err := checkSizes("Fill", n); err != nil || n == 0 {
		return err
	}
	if err := need("Fill", dst); err != nil {
		return err
	}
	return l.launch(kFill, elemGrid(n), dims{block, 1, 1}, dst, n, v)
}

// elementwise launches an elementwise kernel over n values whose operands
// are ptrs (all required) followed by n.
func (l *Launcher) elementwise(k entry, what string, n int, ptrs ...cu.DevicePtr) error {
	if err := checkSizes(what, n); err != nil || n == 0 {
		return err
	}
	if err := need(what, ptrs...); err != nil {
		return err
	}
	args := make([]any, 0, len(ptrs)+1)
	for _, p := range ptrs {
		args = append(args, p)
	}
	return l.launch(k, elemGrid(n), dims{block, 1, 1}, append(args, n)...)
}
