package checkpoint

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"

	"github.com/nlpodyssey/gopickle/types"
)

// legacyMagic starts a torch.save file written before PyTorch 1.6 (or with
// _use_new_zipfile_serialization=False): a pickled magic number, not a zip.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// ReadPyTorch reads a state dict saved by torch.save in the zip format
// (PyTorch ≥ 1.6), such as a hub's pytorch_model.bin.
//
// Nothing in the file is executed. The pickle may name only the globals a
// state dict needs (torch._utils._rebuild_tensor_v2 and _rebuild_parameter,
// collections.OrderedDict and the typed storage classes such as
// torch.FloatStorage); any other global is an error that names it. Views are
// materialised honouring their storage offset and strides, so non-contiguous
// tensors come back as dense row-major tensors. Tensors that are the same view
// of one storage (tied weights, e.g. T5's shared.weight and lm_head.weight)
// share their value slice, as they share memory in PyTorch.
//
// Floating-point tensors come back as float32, integer and boolean ones as
// int64, with DType named as in safetensors ("F32", "BF16", "I64", ...).
func ReadPyTorch(path string) (map[string]*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil {
		head := make([]byte, len(legacyMagic))
		n, _ := f.ReadAt(head, 0)
		if bytes.Equal(head[:n], legacyMagic) || isTar(f) {
			return nil, fmt.Errorf("checkpoint: %s is a legacy (pre-1.6, non-zip) torch.save file, which genq does not read; "+
				"re-save it with torch>=1.6 (torch.save(torch.load(p), p)) or convert it to model.safetensors", path)
		}
		return nil, fmt.Errorf("checkpoint: %s is not a torch.save zip archive: %v", path, err)
	}
	m, err := readTorchZip(zr, st.Size())
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return m, nil
}

// isTar reports whether r holds a tar archive (torch.save's oldest format).
func isTar(r io.ReaderAt) bool {
	magic := make([]byte, 5)
	n, _ := r.ReadAt(magic, 257)
	return n == 5 && string(magic) == "ustar"
}

// readTorchZip unpickles <archive>/data.pkl of an opened torch.save archive
// of size bytes.
//
// What the archive declares is bounded by its size before anything is
// allocated: torch.save writes its records stored (uncompressed) side by
// side, so the records read (data.pkl and the storages the pickle names)
// may declare at most size bytes together, and the tensors materialised from
// them at most viewFactor × size bytes in the file's dtypes. A compressed
// record that would inflate past that (a zip bomb) is refused before it is
// inflated, whatever sizes its headers claim.
func readTorchZip(zr *zip.Reader, size int64) (map[string]*Tensor, error) {
	tr := &torchReader{
		records:     map[string]*zip.File{},
		storages:    map[string][]byte{},
		views:       map[string]*Tensor{},
		size:        uint64(max(size, 0)),
		recordsLeft: uint64(max(size, 0)),
		viewsLeft:   viewFactor * uint64(max(size, 0)),
	}
	var pkl *zip.File
	for _, zf := range zr.File {
		name := zf.Name
		if i := strings.IndexByte(name, '/'); i >= 0 {
			name = name[i+1:]
		}
		switch {
		case name == "data.pkl":
			if pkl != nil {
				return nil, fmt.Errorf("archive holds two data.pkl records (%s and %s)", pkl.Name, zf.Name)
			}
			pkl = zf
		case name == "byteorder":
			b, err := tr.readRecord(zf)
			if err != nil {
				return nil, err
			}
			switch s := strings.TrimSpace(string(b)); s {
			case "little":
			case "big":
				tr.bigEndian = true
			default:
				return nil, fmt.Errorf("byteorder record says %s, want \"little\" or \"big\"", quoted(s))
			}
		case strings.HasPrefix(name, "data/"):
			tr.records[strings.TrimPrefix(name, "data/")] = zf
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("no data.pkl record: not a torch.save archive")
	}
	code, err := tr.readRecord(pkl)
	if err != nil {
		return nil, err
	}
	obj, err := tr.unpickle(code)
	if err != nil {
		return nil, err
	}
	return stateDict(obj)
}

// viewFactor bounds the bytes of the tensors materialised from an archive,
// as a multiple of its size. The views of a state dict cover its storages at
// most once, except for overlapping views (a weight and its transpose);
// identical views (tied weights) share values and count once.
const viewFactor = 2

// readRecord reads a whole zip record. What it declares is checked before
// anything is allocated: a stored record's two sizes must agree, and the
// records read from the archive may declare no more than the archive's size
// together. The record's CRC-32 is checked.
func (r *torchReader) readRecord(zf *zip.File) ([]byte, error) {
	n := zf.UncompressedSize64
	if zf.Method == zip.Store && zf.CompressedSize64 != n {
		return nil, fmt.Errorf("record %s is stored but declares %d bytes uncompressed and %d compressed (corrupt archive)", zf.Name, n, zf.CompressedSize64)
	}
	if n > r.recordsLeft {
		return nil, fmt.Errorf("record %s declares %d bytes, more than the %d-byte archive can hold with the records read before it "+
			"(torch.save stores records uncompressed: the archive is corrupt, or a zip bomb); re-save it with torch.save or convert it to model.safetensors",
			zf.Name, n, r.size)
	}
	r.recordsLeft -= n
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", zf.Name, err)
	}
	defer rc.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("record %s: declares %d bytes: %w", zf.Name, n, err)
	}
	// Reading past the end makes the zip reader check the CRC-32 and that the
	// record holds no more than it declares.
	if k, err := rc.Read(make([]byte, 1)); k != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("holds more than the %d bytes it declares", n)
		}
		return nil, fmt.Errorf("record %s: %w", zf.Name, err)
	}
	return b, nil
}

// stateDict turns the unpickled top-level object into a name → tensor map.
func stateDict(obj any) (map[string]*Tensor, error) {
	out := map[string]*Tensor{}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("state dict key %s is not a string", describe(k))
		}
		t, ok := v.(*Tensor)
		if !ok {
			return fmt.Errorf("state dict entry %s is %s, not a tensor (only plain state dicts of tensors are supported)", quoted(name), describe(v))
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("state dict lists %s twice", quoted(name))
		}
		out[name] = t
		return nil
	}
	switch d := obj.(type) {
	case *types.Dict:
		for _, e := range *d {
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	case *types.OrderedDict:
		for el := d.List.Front(); el != nil; el = el.Next() {
			e := el.Value.(*types.OrderedDictEntry)
			if err := add(e.Key, e.Value); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("the pickle holds %s, not a state dict (a dict of tensors)", describe(obj))
	}
	return out, nil
}

// describe names an unpickled value for an error message.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case *types.GenericClass:
		return fmt.Sprintf("an object of class %s.%s", x.Module, x.Name)
	case *types.GenericObject:
		return fmt.Sprintf("an object of class %s.%s", x.Class.Module, x.Class.Name)
	case *Tensor:
		return "a tensor " + x.String()
	case string:
		return "the string " + quoted(x)
	case int, int64, *big.Int:
		return "the integer " + strings.Trim(quoted(fmt.Sprint(x)), `"`)
	case float64:
		return fmt.Sprintf("the number %g", x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case *types.Tuple:
		return fmt.Sprintf("a tuple of %d items", x.Len())
	case *types.List:
		return fmt.Sprintf("a list of %d items", x.Len())
	case *types.Dict:
		return fmt.Sprintf("a dict of %d items", x.Len())
	}
	// Never %v: a pickle can build containers that hold themselves, which
	// fmt would print forever.
	return fmt.Sprintf("a %T", v)
}
