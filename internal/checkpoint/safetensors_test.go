package checkpoint_test

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// stFile assembles a safetensors file from a header and a data section.
var stFile = testutil.SafetensorsFile

func u16s(vs ...uint16) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	return b
}

func TestReadGoldenSafetensors(t *testing.T) {
	g := testutil.LoadGolden(t, "t5-tiny")
	ids := g.T(t, "input_ids")
	assert.Equal(t, "I64", ids.DType)
	assert.Equal(t, []int{5, 64}, ids.Shape)
	assert.Len(t, ids.I64, 5*64)
	h := g.T(t, "encoder.last_hidden_state")
	assert.Equal(t, []int{5, 64, 16}, h.Shape)
	assert.Len(t, h.F32, 5*64*16)
}

// TestParseHalfPrecision checks F16 and BF16 conversion to float32 on
// hand-made files; the expected values are exact (no tolerance).
func TestParseHalfPrecision(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	tests := []struct {
		dtype string
		bits  []uint16
		want  []float32
	}{
		{"F16",
			[]uint16{0x3c00, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0xc248},
			[]float32{1, 0x1p-24, 1023 * 0x1p-24, 0x1p-14, 65504, inf, -inf, nan, negZero, -3.140625}},
		{"BF16",
			[]uint16{0x3f80, 0x0001, 0x007f, 0x0080, 0x7f7f, 0x7f80, 0xff80, 0x7fc0, 0x8000, 0xc049},
			[]float32{1, 0x1p-133, 127 * 0x1p-133, 0x1p-126, 0x1.fep127, inf, -inf, nan, negZero, -3.140625}},
	}
	for _, tc := range tests {
		t.Run(tc.dtype, func(t *testing.T) {
			header := `{"x":{"dtype":"` + tc.dtype + `","shape":[2,5],"data_offsets":[0,20]}}`
			m, _, err := checkpoint.ParseSafetensors(stFile(header, u16s(tc.bits...)))
			require.NoError(t, err)
			x := m["x"]
			require.Equal(t, tc.dtype, x.DType)
			require.Equal(t, []int{2, 5}, x.Shape)
			require.Nil(t, x.I64, "want float32 values only")
			require.Len(t, x.F32, len(tc.want))
			for i, w := range tc.want {
				g := x.F32[i]
				if math.IsNaN(float64(w)) {
					assert.True(t, math.IsNaN(float64(g)), "element %d (bits %#04x): got %g, want NaN", i, tc.bits[i], g)
					continue
				}
				assert.Equal(t, math.Float32bits(w), math.Float32bits(g), "element %d (bits %#04x): got %g, want %g", i, tc.bits[i], g, w)
			}
		})
	}
}

func TestParseIntegerDTypes(t *testing.T) {
	le := binary.LittleEndian
	tests := []struct {
		dtype string
		data  []byte
		want  []int64
	}{
		{"I8", []byte{0x80, 0x7f}, []int64{-128, 127}},
		{"U8", []byte{0xff, 0x00}, []int64{255, 0}},
		{"BOOL", []byte{1, 0}, []int64{1, 0}},
		{"I16", u16s(0x8000, 0x7fff), []int64{-32768, 32767}},
		{"U16", u16s(0xffff, 1), []int64{65535, 1}},
		{"I32", le.AppendUint32(le.AppendUint32(nil, 0x80000000), 7), []int64{math.MinInt32, 7}},
		{"U32", le.AppendUint32(le.AppendUint32(nil, 0xffffffff), 7), []int64{math.MaxUint32, 7}},
		{"I64", le.AppendUint64(le.AppendUint64(nil, 1<<63), 42), []int64{math.MinInt64, 42}},
		{"U64", le.AppendUint64(le.AppendUint64(nil, math.MaxUint64), 42), []int64{-1, 42}}, // same bits
	}
	for _, tc := range tests {
		t.Run(tc.dtype, func(t *testing.T) {
			header := `{"x":{"dtype":"` + tc.dtype + `","shape":[2],"data_offsets":[0,` + itoa(len(tc.data)) + `]}}`
			m, _, err := checkpoint.ParseSafetensors(stFile(header, tc.data))
			require.NoError(t, err)
			x := m["x"]
			require.Nil(t, x.F32, "want integer values only")
			require.Equal(t, tc.want, x.I64)
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestParseRejects checks every validation with a file that breaks only it.
func TestParseRejects(t *testing.T) {
	eight := make([]byte, 8)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"shorter than the length prefix", []byte{1, 2, 3}, "at least the 8-byte header length"},
		{"header length over 100 MB", binary.LittleEndian.AppendUint64(nil, 100_000_001), "exceeds the 100000000-byte limit"},
		{"header length past the end", append(binary.LittleEndian.AppendUint64(nil, 50), "{}"...), "runs past the end"},
		{"header not JSON", stFile(`{"x":`, nil), "not a JSON object"},
		{"header a JSON array", stFile(`[1,2]`, nil), "not a JSON object"},
		{"header not UTF-8", stFile("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"metadata not strings", stFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__ must map strings to strings"},
		{"bad entry", stFile(`{"x":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}`, eight), `tensor "x": bad header entry`},
		{"unknown dtype", stFile(`{"x":{"dtype":"F128","shape":[2],"data_offsets":[0,8]}}`, eight), `unsupported dtype "F128"`},
		{"negative dimension", stFile(`{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, eight), "negative dimension"},
		{"shape larger than the file", stFile(`{"x":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]}}`, eight), "more elements than the 8-byte data section holds"},
		// 3 × 6148914691236517206 wraps around int64 to 2, and 2 F32 fill the 8 bytes.
		{"shape product overflows int64", stFile(`{"x":{"dtype":"F32","shape":[3,6148914691236517206],"data_offsets":[0,8]}}`, eight),
			`tensor "x": shape [3 6148914691236517206] has more elements than the 8-byte data section holds`},
		{"overflow after a zero-free prefix", stFile(`{"x":{"dtype":"U8","shape":[2,4611686018427387904,4],"data_offsets":[0,0]}}`, nil), "more elements"},
		{"offsets past the end", stFile(`{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight), "outside the 8-byte data section"},
		{"negative offset", stFile(`{"x":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, eight), "outside"},
		{"end before start", stFile(`{"x":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, eight), "outside"},
		{"byte count differs from dtype × shape", stFile(`{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), "F32[3] needs 12 bytes but data_offsets [0, 8] span 8"},
		{"overlapping tensors", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "overlap"},
		{"gap between tensors", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "leaving a gap"},
		{"long name and shape cut short", stFile(`{"`+strings.Repeat("n", 1000)+`":{"dtype":"F32","shape":[`+strings.Repeat("1,", 999)+`-1],"data_offsets":[0,8]}}`, eight),
			`tensor "` + strings.Repeat("n", 120) + `"…: negative dimension in shape [1 1 1 1 1 1 1 1 … (1000 dimensions)]`},
		{"trailing bytes", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight), "tensors cover 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := checkpoint.ParseSafetensors(tc.file)
			require.ErrorContains(t, err, tc.want, "parsed %v", m)
		})
	}
}

func TestParseMetadataAndScalars(t *testing.T) {
	header := `{"__metadata__":{"format":"pt"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"e":{"dtype":"I64","shape":[0,3],"data_offsets":[4,4]}}`
	data := binary.LittleEndian.AppendUint32(nil, math.Float32bits(2.5))
	m, meta, err := checkpoint.ParseSafetensors(stFile(header, data))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"format": "pt"}, meta)
	s := m["s"]
	assert.Empty(t, s.Shape, "scalar s")
	assert.Equal(t, []float32{2.5}, s.F32, "scalar s")
	e := m["e"]
	assert.Equal(t, []int{0, 3}, e.Shape, "empty e")
	assert.Empty(t, e.I64, "empty e")
}
