//go:build cuda

package kernels

import "gorgonia.org/cu"

// IgnoreIndex is the label CrossEntropy skips (kernel.IgnoreIndex, torch's
// ignore_index default).
const IgnoreIndex = -100

// CrossEntropy sets loss (one float32) to torch's CrossEntropyLoss
// (reduction "mean") of logits (rows × v) against labels (rows int64s): the
// mean over the rows whose label is not IgnoreIndex of −log_softmax(row)
// [label], in double, rounded to float32, as kernel.CrossEntropy; NaN when
// every label is ignored, and NaN (kernel.CrossEntropy's error cannot come
// back from the device) when a label is outside [0, v) and not IgnoreIndex.
// It uses the Launcher's scratch memory.
func (l *Launcher) CrossEntropy(loss, logits, labels cu.DevicePtr, rows, v int) error {
	if err := checkSizes("CrossEntropy", rows, v); err != nil {
		return err
	}
	if err := need("CrossEntropy", loss, logits, labels); err != nil {
		return err
	}
	scratch, err := l.scratchPtr(8 * int64(rows+1))
	if err != nil {
		return err
	}
	count, rowloss := scratch, scratch+8
	if err := l.launch(kXentCount, dims{1, 1, 1}, dims{block, 1, 1}, count, labels, rows); err != nil {
		return err
	}
	if err := l.launch(kXentRows, dims{rows, 1, 1}, rowBlock(v), rowloss, logits, labels, v); err != nil {
		return err
	}
	return l.launch(kXentMean, dims{1, 1, 1}, dims{block, 1, 1}, loss, rowloss, count, rows)
}

// CrossEntropyBackward sets dlogits (rows × v) to the gradient of
// CrossEntropy times dloss (one float32 on the device, the loss's output
// gradient): dloss·(softmax(row) − onehot(label))/count on the rows that
// count, 0 on ignored rows, as kernel.CrossEntropyBackward. Labels must be
// valid. It uses the Launcher's scratch memory.
func (l *Launcher) CrossEntropyBackward(dlogits, logits, labels cu.DevicePtr, rows, v int, dloss cu.DevicePtr) error {
	if err := rowArgs("CrossEntropyBackward", rows, v, dlogits, logits, labels, dloss); err != nil || rows*v == 0 {
		return err
	}
	count, err := l.scratchPtr(8)
	if err != nil {
		return err
	}
	if err := l.launch(kXentCount, dims{1, 1, 1}, dims{block, 1, 1}, count, labels, rows); err != nil {
		return err
	}
	return l.launch(kXentBackward, dims{rows, 1, 1}, rowBlock(v), dlogits, logits, labels, count, dloss, v)
}

// L2Normalize sets every row of dst (rows × d) to the row of x over
// max(‖row‖₂, 1e-12), the norm summed in double and rounded to float32, each
// element divided by it in float32, as kernel.L2Normalize. dst may be x.
func (l *Launcher) L2Normalize(dst, x cu.DevicePtr, rows, d int) error {
	if err := rowArgs("L2Normalize", rows, d, dst, x); err != nil {
		return err
	}
	return l.launch(kL2Normalize, dims{rows, 1, 1}, rowBlock(d), dst, x, d)
}

// L2NormalizeBackward sets dx to the gradient of L2Normalize from x and the
// output gradient dy, as kernel.L2NormalizeBackward: (dy − y·⟨y, dy⟩)/‖x‖
// with y = x/‖x‖, and dy/1e-12 on rows whose norm is below 1e-12. dx may be
// dy.
func (l *Launcher) L2NormalizeBackward(dx, x, dy cu.DevicePtr, rows, d int) error {
	if err := rowArgs("L2NormalizeBackward", rows, d, dx, x, dy); err != nil {
		return err
	}
	return l.launch(kL2NormalizeBackward, dims{rows, 1, 1}, rowBlock(d), dx, x, dy, d)
}
