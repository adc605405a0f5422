package checkpoint_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

func f32s(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// TestMarshalMatchesReference checks the writer byte for byte against the
// files the Rust reference's own tests expect (safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).
func TestMarshalMatchesReference(t *testing.T) {
	six := []float32{0, 1, 2, 3, 4, 5}
	tests := []struct {
		name    string
		tensors map[string]*checkpoint.Tensor
		meta    map[string]string
		want    []byte
	}{
		{"serialization",
			map[string]*checkpoint.Tensor{"attn.0": {DType: "F32", Shape: []int{1, 2, 3}, F32: six}}, nil,
			append(stFile(`{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}`, nil), f32s(six...)...)},
		{"forced alignment",
			map[string]*checkpoint.Tensor{"attn0": {DType: "F32", Shape: []int{1, 1, 2, 3}, F32: six}}, nil,
			append(stFile(`{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}       `, nil), f32s(six...)...)},
		{"empty", nil, nil, stFile(`{}      `, nil)},
		{"empty with metadata", nil, map[string]string{"framework": "pt"}, stFile(`{"__metadata__":{"framework":"pt"}}     `, nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := checkpoint.MarshalSafetensors(tc.tensors, tc.meta)
			require.NoError(t, err)
			require.Equal(t, string(tc.want), string(got))
		})
	}
}

// TestMarshalLayout checks the tensor order (dtype alignment descending, then
// name), serde_json-style escaping and that integer dtypes are kept.
func TestMarshalLayout(t *testing.T) {
	tensors := map[string]*checkpoint.Tensor{
		"b":       {DType: "F32", Shape: []int{1}, F32: []float32{1}},
		"a":       {DType: "F16", Shape: []int{1}, F32: []float32{2}}, // widened values are written as F32
		"mask":    {DType: "U8", Shape: []int{2}, I64: []int64{0, 255}},
		"ids":     {DType: "I64", Shape: []int{1}, I64: []int64{-7}},
		"pos":     {DType: "I32", Shape: []int{1}, I64: []int64{3}},
		"q\"\n<>": {Shape: []int{}, I64: []int64{1}}, // no dtype: I64
	}
	b, err := checkpoint.MarshalSafetensors(tensors, map[string]string{"z": "1", "format": "pt"})
	require.NoError(t, err)
	n := binary.LittleEndian.Uint64(b)
	header := string(b[8 : 8+n])
	want := `{"__metadata__":{"format":"pt","z":"1"},` +
		`"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},` +
		`"q\"\n<>":{"dtype":"I64","shape":[],"data_offsets":[8,16]},` +
		`"a":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},` +
		`"b":{"dtype":"F32","shape":[1],"data_offsets":[20,24]},` +
		`"pos":{"dtype":"I32","shape":[1],"data_offsets":[24,28]},` +
		`"mask":{"dtype":"U8","shape":[2],"data_offsets":[28,30]}}`
	require.Equal(t, want, strings.TrimRight(header, " "))
	require.Zero(t, n%8, "header length %d is not padded to a multiple of 8", n)
	back, meta, err := checkpoint.ParseSafetensors(b)
	require.NoError(t, err)
	assert.Equal(t, "pt", meta["format"])
	assert.Equal(t, []int64{0, 255}, back["mask"].I64)
	assert.Equal(t, []int64{-7}, back["ids"].I64)
	assert.Equal(t, []float32{2}, back["a"].F32)
}

func TestMarshalRejects(t *testing.T) {
	tests := []struct {
		name string
		t    *checkpoint.Tensor
		key  string
		want string
	}{
		{"nil tensor", nil, "x", `tensor "x" is nil`},
		{"too few values", &checkpoint.Tensor{DType: "F32", Shape: []int{2, 2}, F32: make([]float32, 3)}, "x", "shape [2 2] has 4 elements but F32 holds 3"},
		{"too many ints", &checkpoint.Tensor{DType: "I64", Shape: []int{1}, I64: make([]int64, 2)}, "x", "I64 holds 2"},
		{"both slices", &checkpoint.Tensor{Shape: []int{1}, F32: []float32{1}, I64: []int64{1}}, "x", "both F32 and I64"},
		{"value out of dtype range", &checkpoint.Tensor{DType: "U8", Shape: []int{1}, I64: []int64{256}}, "x", "value 256 at index 0 does not fit its dtype U8"},
		{"negative dimension", &checkpoint.Tensor{DType: "F32", Shape: []int{-1}}, "x", "negative dimension"},
		// The product wraps around int64 to 2, the number of values given.
		{"shape product overflows", &checkpoint.Tensor{DType: "F32", Shape: []int{3, 6148914691236517206}, F32: make([]float32, 2)}, "x", "more elements than a file can hold"},
		{"reserved name", &checkpoint.Tensor{DType: "F32", Shape: []int{1}, F32: []float32{1}}, "__metadata__", "reserved"},
		{"name not UTF-8", &checkpoint.Tensor{DType: "F32", Shape: []int{1}, F32: []float32{1}}, "\xff", "not valid UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkpoint.MarshalSafetensors(map[string]*checkpoint.Tensor{tc.key: tc.t}, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// sameTensors fails unless got and want hold the same names, dtypes, shapes
// and bit-identical values.
func sameTensors(t *testing.T, got, want map[string]*checkpoint.Tensor) {
	t.Helper()
	assert.Equal(t, len(want), len(got), "number of tensors")
	for name, w := range want {
		g, ok := got[name]
		if !assert.True(t, ok, "tensor %q missing", name) || !assert.Equal(t, w.String(), g.String(), "tensor %q", name) {
			continue
		}
		testutil.Identical(t, name, g.F32, w.F32)
		testutil.EqualElems(t, name, g.I64, w.I64)
	}
}

func TestWriteRoundTripBitIdentical(t *testing.T) {
	weird := []float32{
		float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		math.Float32frombits(0x7fc00001), math.Float32frombits(0xffa00000), // NaNs with payloads
		math.Float32frombits(1), math.MaxFloat32, -math.SmallestNonzeroFloat32, 1.0 / 3,
	}
	in := map[string]*checkpoint.Tensor{
		"weird":  {DType: "F32", Shape: []int{3, 3}, F32: weird},
		"ids":    {DType: "I64", Shape: []int{2, 2}, I64: []int64{math.MinInt64, -1, 0, math.MaxInt64}},
		"scalar": {DType: "F32", Shape: []int{}, F32: []float32{7}},
		"empty":  {DType: "F32", Shape: []int{0, 4}, F32: []float32{}},
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	require.NoError(t, checkpoint.WriteSafetensors(path, in, map[string]string{"format": "pt"}))
	back, err := checkpoint.ReadSafetensors(path)
	require.NoError(t, err)
	sameTensors(t, back, in)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), "mode of the written file")
}

// TestRewriteFixtures reads the reference safetensors files and writes them
// again: the tensors read back are identical and so are the bytes. The golden
// files mix F32, I64 and U8 tensors, so they also pin the dtype ordering.
func TestRewriteFixtures(t *testing.T) {
	for _, name := range []string{
		"bert-tiny/model.safetensors", "distilbert-tiny/model.safetensors",
		"t5-tiny/model.safetensors", "t5-tiny-gated/model.safetensors",
		"t5-tiny/golden.safetensors", "bert-tiny/golden.safetensors", "sampling/golden.safetensors",
	} {
		t.Run(name, func(t *testing.T) {
			src := testutil.Fixture(filepath.FromSlash(name))
			orig, err := os.ReadFile(src)
			require.NoError(t, err)
			tensors, meta, err := checkpoint.ParseSafetensors(orig)
			require.NoError(t, err)
			dst := filepath.Join(t.TempDir(), "model.safetensors")
			require.NoError(t, checkpoint.WriteSafetensors(dst, tensors, meta))
			back, err := checkpoint.ReadSafetensors(dst)
			require.NoError(t, err)
			sameTensors(t, back, tensors)
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(got, orig), "rewritten file differs from %s (%d vs %d bytes)", src, len(got), len(orig))
		})
	}
}

// TestWriteFailureKeepsOldFile checks that a failed write leaves the existing
// file untouched and no temporary file behind.
func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	good := map[string]*checkpoint.Tensor{"w": {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}}}
	require.NoError(t, checkpoint.WriteSafetensors(path, good, nil))
	before, _ := os.ReadFile(path)
	bad := map[string]*checkpoint.Tensor{"w": {DType: "F32", Shape: []int{3}, F32: []float32{1, 2}}}
	require.Error(t, checkpoint.WriteSafetensors(path, bad, nil), "writing a tensor with too few values")
	require.Error(t, checkpoint.WriteSafetensors(filepath.Join(dir, "missing", "x.safetensors"), good, nil), "writing into a missing folder")
	after, _ := os.ReadFile(path)
	assert.True(t, bytes.Equal(before, after), "a failed write changed the existing file")
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"model.safetensors"}, names, "files in the folder")
}

func ExampleMarshalSafetensors() {
	b, _ := checkpoint.MarshalSafetensors(map[string]*checkpoint.Tensor{
		"w": {DType: "F32", Shape: []int{2}, F32: []float32{1, 2}},
	}, map[string]string{"format": "pt"})
	n := binary.LittleEndian.Uint64(b)
	fmt.Printf("%d %q\n", n, b[8:8+n])
	// Output:
	// 88 "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}   "
}

func TestNumElements(t *testing.T) {
	tests := []struct {
		shape []int
		want  int
	}{
		{nil, 1},
		{[]int{2, 3}, 6},
		{[]int{0, 1 << 62, 1 << 62}, 0},
		{[]int{-1, 2}, -1},
		{[]int{3, 6148914691236517206}, -1}, // wraps around to 2
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, (&checkpoint.Tensor{Shape: tc.shape}).NumElements(), "%v", tc.shape)
	}
}
