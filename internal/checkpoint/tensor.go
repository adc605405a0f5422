// Package checkpoint reads and writes the weight files the Hugging Face hub ships
// (model.safetensors and pytorch_model.bin) as a flat map from the hub's tensor
// names to dense row-major tensors.
//
// # Hostile files
//
// One rule holds for every reader of this package: no allocation is sized by
// a number read from a file until that number is checked against the file's
// actual size (or, where noted, a documented cap), and every product of such
// numbers is checked for overflow before it is taken. So a file of n bytes
// costs memory proportional to n, whatever it declares, and a malformed file
// is an error naming the file and what is wrong, never a panic:
//
//   - safetensors: the header length is at most 100 MB and inside the file;
//     each shape's element count is computed with overflow checks and must fit
//     the data section, and each tensor's byte range must hold exactly dtype
//     size × elements, before anything is decoded. Decoding widens to float32
//     or int64, at most 8× the file's bytes.
//   - torch.save archives: the records read (data.pkl and the storages its
//     pickle names) may declare at most the archive's size together, a stored
//     record's two sizes must agree, and a storage record must hold the
//     elements its pickle declares; a compressed record that would inflate past
//     the archive's size (a zip bomb) is refused before it is inflated. The
//     tensors materialised from storages' views may hold at most twice the
//     archive's bytes (identical views share values). Before the unpickler
//     runs, every length and frame in data.pkl must lie inside it, and a
//     number written as text may have at most 1024 characters (converting it
//     takes time quadratic in its length); no pickled code runs. One tensor
//     is also capped at 64 GiB.
//   - shard indexes and the files they name follow the same rules, file by
//     file.
//
// Error messages stay short however many tensors a file holds: lists of
// names give the first few and count the rest ([NameList]).
package checkpoint

import (
	"fmt"
	"math"
)

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

// NumElements returns the product of the shape (1 for a scalar), or -1 when
// a dimension is negative or the product overflows int, so that a check
// like len(t.F32) == t.NumElements() cannot be fooled by a shape whose
// product wraps around.
func (t *Tensor) NumElements() int {
	if negativeDim(t.Shape) {
		return -1
	}
	n, ok := shapeElements(t.Shape, math.MaxInt)
	if !ok {
		return -1
	}
	return int(n)
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
