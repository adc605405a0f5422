package checkpoint

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// maxFuzzInput caps the inputs of the fuzz targets, so that each run stays
// cheap and, with the readers' bounds, its memory small.
const maxFuzzInput = 1 << 16

func fuzzSafetensors(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// FuzzParseSafetensors feeds arbitrary bytes to the parser: it must return an
// error or tensors, never panic, and whatever it accepts must survive a
// write and a second read. Run with: go test -fuzz FuzzParseSafetensors ./internal/checkpoint
func FuzzParseSafetensors(f *testing.F) {
	seeds := [][]byte{
		nil,
		[]byte("garbage"),
		fuzzSafetensors(`{}`, nil),
		fuzzSafetensors(`{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8)),
		fuzzSafetensors(`{"h":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},"i":{"dtype":"I64","shape":[],"data_offsets":[4,12]}}`, make([]byte, 12)),
		fuzzSafetensors(`{"b":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"m":{"dtype":"BOOL","shape":[2],"data_offsets":[6,8]}}`, []byte{0x80, 0x3f, 1, 0, 0x80, 0x7f, 1, 0}),
		fuzzSafetensors(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)),
		fuzzSafetensors(`{"x":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil),
		fuzzSafetensors(`{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4)),
		fuzzSafetensors(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[9223372036854775807,4]}}`, make([]byte, 4)),
		binary.LittleEndian.AppendUint64(nil, 1<<63),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		m, meta, err := ParseSafetensors(b)
		if err != nil {
			return
		}
		out, err := MarshalSafetensors(m, meta)
		require.NoError(t, err, "accepted a file it cannot write back")
		back, _, err := ParseSafetensors(out)
		require.NoError(t, err, "reading the written file back")
		require.Len(t, back, len(m), "tensors read back")
	})
}

// validPickle is the data.pkl of a state dict {"w": a 2×2 float view of
// storage "0" (4 floats)}, as torch.save writes it.
var validPickle = []byte("\x80\x02}(X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuJ\x04\x00\x00\x00tQJ\x00\x00\x00\x00(J\x02\x00\x00\x00J\x02\x00\x00\x00t(J\x01\x00\x00\x00J\x02\x00\x00\x00t\x89ccollections\nOrderedDict\n)RtRu.")

// torchZip returns a torch.save-style archive holding pkl as data.pkl and
// storage "0" of 16 bytes, its records stored.
func torchZip(pkl []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, r := range []struct {
		name string
		b    []byte
	}{{"archive/data.pkl", pkl}, {"archive/data/0", make([]byte, 16)}} {
		w, _ := zw.CreateHeader(&zip.FileHeader{Name: r.name, Method: zip.Store})
		w.Write(r.b)
	}
	zw.Close()
	return buf.Bytes()
}

// readTorchBytes reads a torch.save archive held in memory.
func readTorchBytes(b []byte) (map[string]*Tensor, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, err
	}
	return readTorchZip(zr, int64(len(b)))
}

// FuzzTorchPickle feeds arbitrary bytes as data.pkl of a torch.save archive
// holding one 4-float storage: the reader must return an error or tensors,
// never panic. Inputs are capped at 64 KiB. Run with:
// go test -fuzz FuzzTorchPickle ./internal/checkpoint
func FuzzTorchPickle(f *testing.F) {
	f.Add(validPickle)
	f.Add(validPickle[:len(validPickle)/2])
	f.Add([]byte("\x80\x02\x8a\x00."))
	f.Add([]byte("\x80\x02cos\nsystem\n(X\x02\x00\x00\x00lstR."))
	f.Add([]byte("\x80\x02]q\x00(K\x01K\x02e."))
	f.Add([]byte("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00."))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		if len(pkl) > maxFuzzInput {
			return
		}
		m, err := readTorchBytes(torchZip(pkl))
		if err == nil {
			require.NotNil(t, m, "no error and no tensors")
		}
	})
}

// FuzzTorchArchive feeds arbitrary bytes as a whole pytorch_model.bin: zip
// headers, record sizes and compression included. The reader must return an
// error or tensors, never panic, and (by its bounds) never allocate much
// more than the input's size. Inputs are capped at 64 KiB.
func FuzzTorchArchive(f *testing.F) {
	valid := torchZip(validPickle)
	f.Add(valid)
	f.Add(valid[:len(valid)-30])
	var deflated bytes.Buffer
	zw := zip.NewWriter(&deflated)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Deflate})
	w.Write(validPickle)
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "archive/data/0", Method: zip.Deflate})
	w.Write(make([]byte, 4096))
	zw.Close()
	f.Add(deflated.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		m, err := readTorchBytes(b)
		if err == nil {
			require.NotNil(t, m, "no error and no tensors")
		}
	})
}
