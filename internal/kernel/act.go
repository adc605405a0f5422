package kernel

import "math"

// ReLU sets dst[i] = max(0, x[i]) (dst may be x); NaN stays NaN and -0
// becomes +0, as torch.relu.
func ReLU[T Float](dst, x []T) {
	dst = dst[:len(x)]
	ParallelFor(len(x), ElemGrain, func(lo, hi int) {
		if x32, ok := any(x).([]float32); ok {
			reluBits(any(dst).([]float32)[lo:hi], x32[lo:hi])
			return
		}
		for i, v := range x[lo:hi] {
			if v <= 0 {
				v = 0
			}
			dst[lo+i] = v
		}
	})
}

// reluBits is ReLU of float32s without a branch on the sign (a coin toss
// for the predictor on activations): it clears the bits of negative values.
func reluBits(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		if v != v {
			dst[i] = v
			continue
		}
		b := math.Float32bits(v)
		dst[i] = math.Float32frombits(b &^ uint32(int32(b)>>31))
	}
}

// ReLUBackward sets dx[i] = dy[i] where x[i] > 0 and 0 elsewhere (dx may
// alias dy).
func ReLUBackward[T Float](dx, x, dy []T) {
	for i, v := range x {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// GELU sets dst[i] = x[i]·Φ(x[i]) = x/2·(1 + erf(x/√2)), the exact Gaussian
// error linear unit of PyTorch's nn.GELU() and Hugging Face's "gelu" (dst
// may be x).
func GELU[T Float](dst, x []T) {
	dst = dst[:len(x)]
	ParallelFor(len(x), ElemGrain, func(lo, hi int) {
		if x32, ok := any(x).([]float32); ok && haveAVX2 {
			geluAVX2(x32[lo:hi], any(dst).([]float32)[lo:hi])
			lo += (hi - lo) &^ 3
		}
		for i, v := range x[lo:hi] {
			f := float64(v)
			cdf, _ := normal(f)
			dst[lo+i] = T(f * cdf)
		}
	})
}

// GELUBackward sets dx = dy·(Φ(x) + x·φ(x)).
func GELUBackward[T Float](dx, x, dy []T) {
	dx = dx[:len(x)]
	ParallelFor(len(x), ElemGrain, func(lo, hi int) {
		if x32, ok := any(x).([]float32); ok && haveAVX2 {
			geluGradAVX2(x32[lo:hi], any(dy).([]float32)[lo:hi], any(dx).([]float32)[lo:hi])
			lo += (hi - lo) &^ 3
		}
		for i, v := range x[lo:hi] {
			f := float64(v)
			cdf, pdf := normal(f)
			dx[lo+i] = T(float64(dy[lo+i]) * (cdf + f*pdf))
		}
	})
}

// geluC is √(2/π).
const geluC = 0.7978845608028654

// GELUNewOf is gelu_new of one value, 0.5·x·(1 + tanh(√(2/π)·(x +
// 0.044715·x³))), evaluated in float64.
func GELUNewOf[T Float](v T) T {
	f := float64(v)
	return T(0.5 * f * (1 + math.Tanh(geluC*(f+0.044715*f*f*f))))
}

// GELUNew sets dst[i] = gelu_new(x[i]), the tanh approximation of GELU that
// T5 v1.1 uses (Hugging Face's "gelu_new"); dst may be x.
func GELUNew[T Float](dst, x []T) {
	dst = dst[:len(x)]
	ParallelFor(len(x), ElemGrain, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			dst[lo+i] = GELUNewOf(v)
		}
	})
}

// GELUNewBackward sets dx = dy·gelu_new'(x).
func GELUNewBackward[T Float](dx, x, dy []T) {
	dx = dx[:len(x)]
	ParallelFor(len(x), ElemGrain, func(lo, hi int) {
		for i, v := range x[lo:hi] {
			f := float64(v)
			t := math.Tanh(geluC * (f + 0.044715*f*f*f))
			d := 0.5*(1+t) + 0.5*f*(1-t*t)*geluC*(1+3*0.044715*f*f)
			dx[lo+i] = T(float64(dy[lo+i]) * d)
		}
	})
}

// GatedGELUNew sets dst[i] = gelu_new(a[i])·b[i], the gate of T5's
// DenseGatedActDense (dst may be a or b).
func GatedGELUNew[T Float](dst, a, b []T) {
	dst, b = dst[:len(a)], b[:len(a)]
	ParallelFor(len(a), ElemGrain, func(lo, hi int) {
		for i, v := range a[lo:hi] {
			dst[lo+i] = GELUNewOf(v) * b[lo+i]
		}
	})
}
