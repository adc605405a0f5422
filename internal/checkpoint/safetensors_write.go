package checkpoint

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/atomicfile"
)

// WriteSafetensors writes tensors to path in the safetensors format, byte for
// byte as Python's safetensors (the Rust reference) writes it: an 8-byte
// little-endian header length, a compact JSON header that starts with
// "__metadata__" (left out when metadata is empty; save_pretrained passes
// {"format": "pt"}) and is padded with spaces to a multiple of 8 bytes, then the
// tensors' bytes laid out by dtype alignment, largest first, then by name.
//
// Float tensors are written as F32. Integer tensors keep their DType when it
// is an integer dtype and every value fits (else the call fails), and are
// written as I64 otherwise. The file is written to a temporary file in the
// same folder and renamed over path, so an interrupted write never leaves a
// partial file behind.
func WriteSafetensors(path string, tensors map[string]*Tensor, metadata map[string]string) error {
	plan, err := planSafetensors(tensors, metadata)
	if err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := plan.write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("checkpoint: writing %s: %w", path, err)
	}
	return nil
}

// MarshalSafetensors returns the bytes WriteSafetensors would write.
func MarshalSafetensors(tensors map[string]*Tensor, metadata map[string]string) ([]byte, error) {
	plan, err := planSafetensors(tensors, metadata)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(8 + len(plan.header) + int(plan.dataLen))
	if err := plan.write(&buf); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return buf.Bytes(), nil
}

type stItem struct {
	name  string
	dtype string
	t     *Tensor
}

type stPlan struct {
	header  []byte // JSON, space-padded to a multiple of 8
	items   []stItem
	dataLen int64
}

// planSafetensors validates the tensors, chooses each one's dtype and builds
// the header.
func planSafetensors(tensors map[string]*Tensor, metadata map[string]string) (*stPlan, error) {
	items := make([]stItem, 0, len(tensors))
	for name, t := range tensors {
		dt, err := outputDType(name, t)
		if err != nil {
			return nil, err
		}
		items = append(items, stItem{name, dt, t})
	}
	sort.Slice(items, func(i, j int) bool {
		ri, rj := dtypes[items[i].dtype].rank, dtypes[items[j].dtype].rank
		if ri != rj {
			return ri > rj
		}
		return items[i].name < items[j].name
	})

	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		h.WriteString(`"__metadata__":{`)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			if err := writeJSONString(&h, k); err != nil {
				return nil, fmt.Errorf("metadata key: %w", err)
			}
			h.WriteByte(':')
			if err := writeJSONString(&h, metadata[k]); err != nil {
				return nil, fmt.Errorf("metadata %q: %w", k, err)
			}
		}
		h.WriteByte('}')
	}
	var off int64
	for i, it := range items {
		if i > 0 || len(metadata) > 0 {
			h.WriteByte(',')
		}
		if err := writeJSONString(&h, it.name); err != nil {
			return nil, fmt.Errorf("tensor name: %w", err)
		}
		h.WriteString(`:{"dtype":"`)
		h.WriteString(it.dtype)
		h.WriteString(`","shape":[`)
		for k, d := range it.t.Shape {
			if k > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		n := int64(it.t.NumElements()) * int64(dtypes[it.dtype].size)
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, off+n)
		off += n
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	if h.Len() > maxHeaderLen {
		return nil, fmt.Errorf("safetensors header would be %d bytes, over the %d-byte limit readers accept", h.Len(), maxHeaderLen)
	}
	return &stPlan{header: h.Bytes(), items: items, dataLen: off}, nil
}

// outputDType checks a tensor and returns the dtype it is written as.
func outputDType(name string, t *Tensor) (string, error) {
	if name == "__metadata__" {
		return "", fmt.Errorf(`"__metadata__" is reserved for the metadata map and cannot name a tensor`)
	}
	if t == nil {
		return "", fmt.Errorf("tensor %q is nil", name)
	}
	if negativeDim(t.Shape) {
		return "", fmt.Errorf("tensor %q: negative dimension in shape %v", name, t.Shape)
	}
	n64, ok := shapeElements(t.Shape, math.MaxInt64/8)
	if !ok {
		return "", fmt.Errorf("tensor %q: shape %v has more elements than a file can hold", name, t.Shape)
	}
	n := int(n64)
	switch {
	case t.F32 != nil && t.I64 != nil:
		return "", fmt.Errorf("tensor %q holds both F32 and I64 values; set only one", name)
	case t.F32 != nil || (t.I64 == nil && isFloatDType(t.DType)):
		if len(t.F32) != n {
			return "", fmt.Errorf("tensor %q: shape %v has %d elements but F32 holds %d", name, t.Shape, n, len(t.F32))
		}
		return "F32", nil
	}
	if len(t.I64) != n {
		return "", fmt.Errorf("tensor %q: shape %v has %d elements but I64 holds %d", name, t.Shape, n, len(t.I64))
	}
	if _, ok := dtypes[t.DType]; !ok || isFloatDType(t.DType) {
		return "I64", nil
	}
	if lo, hi, checked := intRange(t.DType); checked {
		for i, v := range t.I64 {
			if v < lo || v > hi {
				return "", fmt.Errorf("tensor %q: value %d at index %d does not fit its dtype %s (set DType to \"I64\" to widen it)", name, v, i, t.DType)
			}
		}
	}
	return t.DType, nil
}

// write emits the length prefix, the header and the data.
func (p *stPlan) write(w io.Writer) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(p.header)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(p.header); err != nil {
		return err
	}
	var buf []byte
	for _, it := range p.items {
		buf = encodeElements(buf[:0], it.dtype, it.t)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// encodeElements appends the little-endian bytes of t's values as dtype.
func encodeElements(b []byte, dtype string, t *Tensor) []byte {
	if dtype == "F32" {
		for _, v := range t.F32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	for _, v := range t.I64 {
		switch dtypes[dtype].size {
		case 8:
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		case 4:
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		case 2:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		default:
			b = append(b, byte(v))
		}
	}
	return b
}

// writeJSONString writes s as a JSON string escaped the way serde_json does:
// only '"', '\\' and control characters are escaped.
func writeJSONString(b *bytes.Buffer, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%q is not valid UTF-8", s)
	}
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return nil
}
