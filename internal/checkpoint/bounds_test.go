package checkpoint_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// record is one zip record of a crafted archive: written stored or deflated
// from data, or, with hdr.CompressedSize64 set, written raw from data under
// the sizes hdr declares.
type record struct {
	hdr  zip.FileHeader
	data []byte
}

// craftedArchive writes a torch.save-style archive holding pkl as data.pkl
// and the given records, and returns its path.
func craftedArchive(t *testing.T, pkl []byte, recs ...record) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/data.pkl", Method: zip.Store})
	require.NoError(t, err)
	w.Write(pkl)
	for _, r := range recs {
		if r.hdr.CompressedSize64 > 0 {
			w, err = zw.CreateRaw(&r.hdr)
		} else {
			w, err = zw.CreateHeader(&r.hdr)
		}
		require.NoError(t, err)
		_, err = w.Write(r.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	path := filepath.Join(t.TempDir(), "pytorch_model.bin")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

// deflated returns data compressed as a zip record's body.
func deflated(t *testing.T, data []byte) []byte {
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestCompression)
	require.NoError(t, err)
	fw.Write(data)
	require.NoError(t, fw.Close())
	return b.Bytes()
}

// TestPyTorchBoundedByFileSize reads archives whose records or views declare
// far more than the file holds: each must be refused before the allocation
// it asks for (less than 1 MiB allocated in all, for archives of under
// 100 KB declaring 16 MiB to 64 GiB).
func TestPyTorchBoundedByFileSize(t *testing.T) {
	floats := func(numel int, size, stride []int) []byte {
		return stateDictPickle([]string{"x"}, func(p *pickler, _ string) {
			p.view(view{class: "FloatStorage", key: "0", numel: numel, size: size, stride: stride})
		})
	}
	const mib = 1 << 20
	tests := []struct {
		name string
		path string
		want string
	}{
		// Honest sizes, but 16 MiB of zeros deflate to 16 KB.
		{"deflated record inflating past the file",
			craftedArchive(t, floats(4*mib, []int{4 * mib}, []int{1}),
				record{zip.FileHeader{Name: "archive/data/0", Method: zip.Deflate}, make([]byte, 16*mib)}),
			"record archive/data/0 declares 16777216 bytes, more than the"},
		// A 1 KiB body whose headers claim 64 GiB.
		{"deflated record declaring 64 GiB",
			craftedArchive(t, floats(1<<30, []int{1 << 30}, []int{1}),
				record{zip.FileHeader{Name: "archive/data/0", Method: zip.Deflate, CompressedSize64: uint64(len(deflated(t, make([]byte, 1024)))), UncompressedSize64: 64 << 30},
					deflated(t, make([]byte, 1024))}),
			"declares 68719476736 bytes"},
		{"stored record whose sizes disagree",
			craftedArchive(t, floats(6, []int{6}, []int{1}),
				record{zip.FileHeader{Name: "archive/data/0", Method: zip.Store, CompressedSize64: 24, UncompressedSize64: 1 << 30}, f32s(0, 1, 2, 3, 4, 5)}),
			"is stored but declares 1073741824 bytes uncompressed and 24 compressed"},
		// Stride 0 expands a 16-byte storage to 2^28 rows: 4 GiB of floats.
		{"view expanded past its storage",
			craftedArchive(t, floats(4, []int{1 << 28, 4}, []int{0, 1}),
				record{zip.FileHeader{Name: "archive/data/0", Method: zip.Store}, f32s(0, 1, 2, 3)}),
			"the state dict's tensors would hold more than 2× the archive's"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := os.Stat(tc.path)
			require.NoError(t, err)
			require.Less(t, st.Size(), int64(100_000), "the crafted archive")
			var m map[string]*checkpoint.Tensor
			n := testutil.Allocated(func() { m, err = checkpoint.ReadPyTorch(tc.path) })
			require.ErrorContains(t, err, tc.want, "read %v", m)
			require.Less(t, n, uint64(mib), "bytes allocated to refuse the archive")
		})
	}
}

// TestPyTorchDeflatedRecord reads a storage record that another zip tool
// compressed: within the archive's size, it reads like a stored one.
func TestPyTorchDeflatedRecord(t *testing.T) {
	pkl := stateDictPickle([]string{"x"}, func(p *pickler, _ string) {
		p.view(view{class: "FloatStorage", key: "0", numel: 3, size: []int{3}, stride: []int{1}})
	})
	path := craftedArchive(t, pkl, record{zip.FileHeader{Name: "archive/data/0", Method: zip.Deflate}, f32s(1, -2, 0.5)})
	m, err := checkpoint.ReadPyTorch(path)
	require.NoError(t, err)
	sameTensors(t, m, map[string]*checkpoint.Tensor{"x": {DType: "F32", Shape: []int{3}, F32: []float32{1, -2, 0.5}}})
}
