//go:build cuda

package kernels

import "gorgonia.org/cu"

// Softmax sets dst to the softmax of every row of x (rows × d), as
// kernel.Softmax: from the row maximum in double, e^(x − max) rounded to
// float32, times the reciprocal of the double sum. dst may be x.
func (l *Launcher) Softmax(dst, x cu.DevicePtr, rows, d int) error {
	if err := rowArgs("Softmax", rows, d, dst, x); err != nil {
		return err
	}
	return l.launch(kSoftmax, dims{rows, 1, 1}, rowBlock(d), dst, x, d)
}

// SoftmaxBackward sets dx = y ⊙ (dy − Σ dy⊙y) row by row, the gradient of
// Softmax from its output y and output gradient dy, as
// kernel.SoftmaxBackward. dx may be dy.
func (l *Launcher) SoftmaxBackward(dx, y, dy cu.DevicePtr, rows, d int) error {
	if err := rowArgs("SoftmaxBackward", rows, d, dx, y, dy); err != nil {
		return err
	}
	return l.launch(kSoftmaxBackward, dims{rows, 1, 1}, rowBlock(d), dx, y, dy, d)
}

// LogSoftmax sets dst to x − logΣe^x for every row of x (rows × d), in
// double, as kernel.LogSoftmax. dst may be x.
func (l *Launcher) LogSoftmax(dst, x cu.DevicePtr, rows, d int) error {
	if err := rowArgs("LogSoftmax", rows, d, dst, x); err != nil {
		return err
	}
	return l.launch(kLogSoftmax, dims{rows, 1, 1}, rowBlock(d), dst, x, d)
}

// LogSoftmaxBackward sets dx = dy − e^y·Σdy row by row, the gradient of
// LogSoftmax from its output y and output gradient dy, as
// kernel.LogSoftmaxBackward. dx may be dy.
func (l *Launcher) LogSoftmaxBackward(dx, y, dy cu.DevicePtr, rows, d int) error {
	if err := rowArgs("LogSoftmaxBackward", rows, d, dx, y, dy); err != nil {
		return err
	}
	return l.launch(kLogSoftmaxBackward, dims{rows, 1, 1}, rowBlock(d), dx, y, dy, d)
}
