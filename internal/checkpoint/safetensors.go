package checkpoint

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// maxHeaderLen bounds the JSON header of a safetensors file (the reference
// implementation refuses headers over 100 MB).
const maxHeaderLen = 100 << 20

var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
	"U16": 2, "U32": 4, "U64": 8,
}

type stEntry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// ReadSafetensors reads every tensor of a safetensors file. The header is
// validated: its length is bounded, every tensor's byte range lies inside the
// file, ranges do not overlap, and each range holds exactly dtype size × shape
// bytes. Floating-point tensors come back as float32, integers as int64.
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
// tensors and its "__metadata__" map.
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
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(buf[8:8+n], &raw); err != nil {
		return nil, nil, fmt.Errorf("safetensors header is not valid JSON: %v", err)
	}
	data := buf[8+n:]
	meta := map[string]string{}
	type span struct {
		name       string
		start, end int64
	}
	var spans []span
	out := make(map[string]*Tensor, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, nil, fmt.Errorf("safetensors __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		var e stEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("tensor %q: bad header entry: %v", name, err)
		}
		size, ok := dtypeSize[e.DType]
		if !ok {
			return nil, nil, fmt.Errorf("tensor %q: unsupported dtype %q", name, e.DType)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("tensor %q: negative dimension in shape %v", name, e.Shape)
			}
			count *= int64(d)
			if count > int64(len(data)) {
				return nil, nil, fmt.Errorf("tensor %q: shape %v is larger than the file", name, e.Shape)
			}
		}
		start, end := e.Offsets[0], e.Offsets[1]
		if start < 0 || end < start || end > int64(len(data)) {
			return nil, nil, fmt.Errorf("tensor %q: data_offsets [%d, %d] outside the %d-byte data section", name, start, end, len(data))
		}
		if end-start != count*int64(size) {
			return nil, nil, fmt.Errorf("tensor %q: %s%v needs %d bytes but data_offsets span %d", name, e.DType, e.Shape, count*int64(size), end-start)
		}
		spans = append(spans, span{name, start, end})
		out[name] = decode(e.DType, e.Shape, data[start:end])
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return nil, nil, fmt.Errorf("tensors %q and %q overlap in the data section", spans[i-1].name, spans[i].name)
		}
	}
	return out, meta, nil
}

func decode(dtype string, shape []int, b []byte) *Tensor {
	t := &Tensor{DType: dtype, Shape: append([]int{}, shape...)}
	if t.Shape == nil {
		t.Shape = []int{}
	}
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
			t.F32[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	default:
		t.I64 = make([]int64, n)
		size := dtypeSize[dtype]
		for i := range t.I64 {
			p := b[size*i:]
			switch dtype {
			case "I64":
				t.I64[i] = int64(binary.LittleEndian.Uint64(p))
			case "U64":
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
			default: // U8, BOOL
				t.I64[i] = int64(p[0])
			}
		}
	}
	return t
}

// Float16ToFloat32 converts an IEEE 754 half-precision value to float32.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		for frac&0x400 == 0 {
			frac <<= 1
			exp++
		}
		frac &= 0x3ff
		return math.Float32frombits(sign | (127-15-exp+1)<<23 | frac<<13)
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
