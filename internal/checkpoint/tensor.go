// Package checkpoint reads and writes the weight files the Hugging Face hub ships
// (model.safetensors and pytorch_model.bin) as a flat map from the hub's tensor
// names to dense row-major tensors.
package checkpoint

import "fmt"

// Tensor is a dense, row-major tensor read from a checkpoint. Floating-point
// tensors (F32, F16, BF16, F64) are converted to float32 and stored in F32;
// integer and boolean tensors are widened to int64 and stored in I64.
type Tensor struct {
	// DType is the dtype as the file named it ("F32", "F16", "BF16", "I64", "U8", ...).
	DType string
	// Shape is the tensor's shape; a scalar has an empty shape.
	Shape []int
	// F32 holds the values of a floating-point tensor.
	F32 []float32
	// I64 holds the values of an integer or boolean tensor.
	I64 []int64
}

// NumElements returns the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// IsFloat reports whether the tensor holds floating-point values (in F32).
func (t *Tensor) IsFloat() bool { return t.F32 != nil || isFloatDType(t.DType) }

// ShapeEquals reports whether the tensor has exactly the given shape.
func (t *Tensor) ShapeEquals(shape ...int) bool {
	if len(shape) != len(t.Shape) {
		return false
	}
	for i := range shape {
		if shape[i] != t.Shape[i] {
			return false
		}
	}
	return true
}

// String describes the tensor by dtype and shape, e.g. "F32[32128 16]".
func (t *Tensor) String() string { return fmt.Sprintf("%s%v", t.DType, t.Shape) }
