//go:build cuda

package kernels

import "gorgonia.org/cu"

// RMSNorm sets every row of dst (rows × d) to T5LayerNorm of the row of x:
// w ⊙ x / sqrt(mean(x²) + eps), mean(x²) in double, as kernel.RMSNorm. dst
// may be x.
func (l *Launcher) RMSNorm(dst, x, w cu.DevicePtr, rows, d int, eps float32) error {
	if err := rowArgs("RMSNorm", rows, d, dst, x, w); err != nil {
		return err
	}
	return l.launch(kRMSNorm, dims{rows, 1, 1}, rowBlock(d), dst, x, w, d, eps)
}

// RMSNormBackward computes the gradients of RMSNorm from x, w and the output
// gradient dy, as kernel.RMSNormBackward: dx (rows × d) and dw (d, summed
// over the rows in a fixed order); either may be 0 to skip it. It uses the
// Launcher's scratch memory for dw.
func (l *Launcher) RMSNormBackward(dx, dw, x, w, dy cu.DevicePtr, rows, d int, eps float32) error {
	if err := rowArgs("RMSNormBackward", rows, d, x, w, dy); err != nil {
		return err
	}
	var stats cu.DevicePtr
	if dw != 0 {
		var err error
		if stats, err = l.scratchPtr(8 * int64(max(rows, 1))); err != nil {
			return err
		}
	}
	if dx != 0 || dw != 0 {
		if err := l.launch(kRMSNormBackwardRows, dims{rows, 1, 1}, rowBlock(d), dx, stats, x, w, dy, d, eps); err != nil {
			return err
		}
	}
	if dw == 0 {
		return nil
	}
	return l.colSum(dw, dy, x, 0, stats, rows, d, colsumRMS)
}

// LayerNorm sets every row of dst (rows × d) to torch's LayerNorm of the row
// of z = x + res (res 0 for x alone): (z − mean)/sqrt(var + eps)·w + b with
// the biased variance, in double, as kernel.LayerNorm. dst may be x.
func (l *Launcher) LayerNorm(dst, x, res, w, b cu.DevicePtr, rows, d int, eps float32) error {
	if err := rowArgs("LayerNorm", rows, d, dst, x, w, b); err != nil {
		return err
	}
	return l.launch(kLayerNorm, dims{rows, 1, 1}, rowBlock(d), dst, x, res, w, b, d, eps)
}

// LayerNormBackward computes the gradients of LayerNorm at z = x + res (res
// 0 for x alone) from w and the output gradient dy, as
// kernel.LayerNormBackward: dx (rows × d, also the gradient of res), dw and
// db (d each, summed over the rows in a fixed order); any of them may be 0 to
// skip it. It uses the Launcher's scratch memory for dw.
func (l *Launcher) LayerNormBackward(dx, dw, db, x, res, w, dy cu.DevicePtr, rows, d int, eps float32) error {
	if err := rowArgs("LayerNormBackward", rows, d, x, w, dy); err != nil {
		return err
	}
	var stats cu.DevicePtr
	if dw != 0 {
		var err error
		if stats, err = l.scratchPtr(16 * int64(max(rows, 1))); err != nil {
			return err
		}
	}
	if dx != 0 || dw != 0 {
		if err := l.launch(kLayerNormBackwardRows, dims{rows, 1, 1}, rowBlock(d), dx, stats, x, res, w, dy, d, eps); err != nil {
			return err
		}
	}
	if dw != 0 {
		if err := l.colSum(dw, dy, x, res, stats, rows, d, colsumLN); err != nil {
			return err
		}
	}
	if db != 0 {
		return l.colSum(db, dy, 0, 0, 0, rows, d, colsumPlain)
	}
	return nil
}

// SumRows sets dst (d) to the sum of the rows of x (rows × d), each column
// summed in a fixed order in double, as kernel.SumRows: the gradient of a
// bias added to every row.
func (l *Launcher) SumRows(dst, x cu.DevicePtr, rows, d int) error {
	if err := rowArgs("SumRows", rows, d, dst, x); err != nil {
		return err
	}
	return l.colSum(dst, x, 0, 0, 0, rows, d, colsumPlain)
}

// colSum launches genq_colsum: 32 columns a block, 8 row lanes.
func (l *Launcher) colSum(dst, a, b, c, stats cu.DevicePtr, rows, d, mode int) error {
	return l.launch(kColSum, dims{(d + 31) / 32, 1, 1}, dims{32, 8, 1}, dst, a, b, c, stats, rows, d, mode)
}

// rowArgs checks the sizes and the required operands of a row kernel.
func rowArgs(what string, rows, d int, ptrs ...cu.DevicePtr) error {
	if err := checkSizes(what, rows, d); err != nil {
		return err
	}
	if rows == 0 || d == 0 {
		return nil
	}
	return need(what, ptrs...)
}
