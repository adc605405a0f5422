package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"unicode/utf8"
)

// maxHeaderLen bounds the JSON header of a safetensors file (the reference
// implementation refuses headers over 100 MB).
const maxHeaderLen = 100_000_000

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadSafetensors reads every tensor of a safetensors file (see
// ParseSafetensors for the checks and conversions).
func ReadSafetensors(path string) (map[string]*Tensor, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	m, _, err := ParseSafetensors(buf)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return m, nil
}

// ParseSafetensors parses a safetensors file held in memory and returns its
// tensors and its "__metadata__" map (empty when the file has none).
//
// The file is validated as the Rust reference does: the header length is
// bounded and lies inside the file, the header is UTF-8 JSON, each tensor's
// byte range holds exactly dtype size × shape bytes, and the ranges tile the
// data section with no gap, overlap or trailing byte. Floating-point tensors
// (F32, F16, BF16, F64) come back as float32, integer and boolean ones as int64.
func ParseSafetensors(buf []byte) (map[string]*Tensor, map[string]string, error) {
	if len(buf) < 8 {
		return nil, nil, fmt.Errorf("not a safetensors file: %d bytes, need at least the 8-byte header length", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if n > maxHeaderLen {
		return nil, nil, fmt.Errorf("safetensors header length %d exceeds the %d-byte limit (corrupt or not a safetensors file)", n, maxHeaderLen)
	}
	if 8+n > uint64(len(buf)) {
		return nil, nil, fmt.Errorf("safetensors header length %d runs past the end of the %d-byte file (truncated download?)", n, len(buf))
	}
	header := buf[8 : 8+n]
	if !utf8.Valid(header) {
		return nil, nil, fmt.Errorf("safetensors header is not valid UTF-8 (corrupt or not a safetensors file)")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors header is not a JSON object: %v", err)
	}
	data := buf[8+n:]
	meta := map[string]string{}
	type span struct {
		name       string
		start, end int64
		e          stEntry
	}
	spans := make([]span, 0, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %s: bad header entry: %v", quoted(name), err)
		}
		info, ok := dtypes[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %s: unsupported dtype %s", quoted(name), quoted(e.DType))
		}
		if negativeDim(e.Shape) {
			return nil, nil, fmt.Errorf("tensor %s: negative dimension in shape %s", quoted(name), shapeText(e.Shape))
		}
		count, ok := shapeElements(e.Shape, int64(len(data)))
		if !ok {
			return nil, nil, fmt.Errorf("tensor %s: shape %s has more elements than the %d-byte data section holds (corrupt header)", quoted(name), shapeText(e.Shape), len(data))
		}
		start, end := e.Offsets[0], e.Offsets[1]
		if start < 0 || end < start || end > int64(len(data)) {
			return nil, nil, fmt.Errorf("tensor %s: data_offsets [%d, %d] outside the %d-byte data section", quoted(name), start, end, len(data))
		}
		if end-start != count*int64(info.size) {
			return nil, nil, fmt.Errorf("tensor %s: %s%s needs %d bytes but data_offsets [%d, %d] span %d", quoted(name), e.DType, shapeText(e.Shape), count*int64(info.size), start, end, end-start)
		}
		spans = append(spans, span{name, start, end, e})
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].start != spans[j].start {
			return spans[i].start < spans[j].start
		}
		return spans[i].end < spans[j].end
	})
	var pos int64
	for i, s := range spans {
		switch {
		case s.start < pos:
			return nil, nil, fmt.Errorf("tensors %s and %s overlap in the data section", quoted(spans[i-1].name), quoted(s.name))
		case s.start > pos:
			return nil, nil, fmt.Errorf("tensor %s starts at byte %d of the data section, leaving a gap after byte %d", quoted(s.name), s.start, pos)
		}
		pos = s.end
	}
	if pos != int64(len(data)) {
		return nil, nil, fmt.Errorf("the data section has %d bytes but its tensors cover %d (truncated or padded file?)", len(data), pos)
	}
	out := make(map[string]*Tensor, len(spans))
	for _, s := range spans {
		out[s.name] = decode(s.e.DType, s.e.Shape, data[s.start:s.end])
	}
	return out, meta, nil
}

// shapeElements returns the number of elements of shape, a shape without
// negative dimensions, and false when it exceeds limit. Each product is
// checked before it is taken, so no shape wraps around int64 (as
// [3, 6148914691236517206] would, to 2).
func shapeElements(shape []int, limit int64) (int64, bool) {
	count := int64(1)
	for _, d := range shape {
		if d == 0 {
			return 0, true
		}
		if count > limit/int64(d) {
			return 0, false
		}
		count *= int64(d)
	}
	return count, true
}

// negativeDim reports whether shape has a negative dimension.
func negativeDim(shape []int) bool {
	for _, d := range shape {
		if d < 0 {
			return true
		}
	}
	return false
}

// decode converts little-endian elements of a known dtype to a Tensor; b holds
// exactly the tensor's bytes.
func decode(dtype string, shape []int, b []byte) *Tensor {
	t := &Tensor{DType: dtype, Shape: append([]int{}, shape...)}
	n := t.NumElements()
	switch dtype {
	case "F32":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case "F64":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case "F16":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = Float16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case "BF16":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = BFloat16ToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	default:
		t.I64 = make([]int64, n)
		size := dtypes[dtype].size
		for i := range t.I64 {
			p := b[size*i:]
			switch dtype {
			case "I64", "U64":
				t.I64[i] = int64(binary.LittleEndian.Uint64(p))
			case "I32":
				t.I64[i] = int64(int32(binary.LittleEndian.Uint32(p)))
			case "U32":
				t.I64[i] = int64(binary.LittleEndian.Uint32(p))
			case "I16":
				t.I64[i] = int64(int16(binary.LittleEndian.Uint16(p)))
			case "U16":
				t.I64[i] = int64(binary.LittleEndian.Uint16(p))
			case "I8":
				t.I64[i] = int64(int8(p[0]))
			case "BOOL": // any nonzero byte is true, as numpy and torch read it
				t.I64[i] = int64(min(p[0], 1))
			default: // U8
				t.I64[i] = int64(p[0])
			}
		}
	}
	return t
}
