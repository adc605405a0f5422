package checkpoint

import (
	"archive/zip"
	"bytes"
	"fmt"
	"math"
	"math/big"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// maxTensorBytes bounds one materialised tensor, so that a corrupt view cannot
// ask for an absurd allocation.
const maxTensorBytes = 1 << 36

// storageClass is a torch typed-storage class such as torch.FloatStorage.
type storageClass struct {
	name  string // e.g. "FloatStorage"
	dtype string // safetensors dtype name, e.g. "F32"
}

// storageClasses maps torch's storage class names to dtypes.
var storageClasses = map[string]string{
	"FloatStorage":    "F32",
	"DoubleStorage":   "F64",
	"HalfStorage":     "F16",
	"BFloat16Storage": "BF16",
	"LongStorage":     "I64",
	"IntStorage":      "I32",
	"ShortStorage":    "I16",
	"CharStorage":     "I8",
	"ByteStorage":     "U8",
	"BoolStorage":     "BOOL",
}

// storage is one persistent storage record of the archive, typed.
type storage struct {
	class *storageClass
	key   string
	numel int
	data  []byte // the record's bytes (shared between typed views of one record)
}

// torchReader resolves the pickle's globals and persistent ids against one
// opened archive.
type torchReader struct {
	records   map[string]*zip.File // data/<key> records by key
	storages  map[string][]byte    // loaded records by key
	views     map[string]*Tensor   // materialised views, to share tied tensors
	bigEndian bool
	// size is the archive's size; recordsLeft and viewsLeft are the bytes
	// that records may still declare and views still materialise.
	size, recordsLeft, viewsLeft uint64
}

// rebuildTensor is torch._utils._rebuild_tensor_v2.
type rebuildTensor struct{ r *torchReader }

// rebuildParameter is torch._utils._rebuild_parameter(_with_state): an
// nn.Parameter wraps the tensor passed as its first argument.
type rebuildParameter struct{ name string }

// unpickle runs data.pkl through gopickle with the allow-listed globals.
// gopickle never executes code, but it can panic on malformed input: that is
// recovered and reported as an error.
func (r *torchReader) unpickle(code []byte) (obj any, err error) {
	defer func() {
		if p := recover(); p != nil {
			obj, err = nil, fmt.Errorf("data.pkl is malformed: %v", p)
		}
	}()
	if err := scanPickle(code); err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	u := pickle.NewUnpickler(bytes.NewReader(code))
	u.FindClass = r.findClass
	u.PersistentLoad = r.persistentLoad
	obj, err = u.Load()
	if err != nil {
		return nil, fmt.Errorf("data.pkl: %w", err)
	}
	return obj, nil
}

// findClass resolves the allowed globals (see allowedGlobal); it sees those
// built with STACK_GLOBAL, which scanPickle cannot check ahead.
func (r *torchReader) findClass(module, name string) (any, error) {
	if !allowedGlobal(module, name) {
		return nil, globalError(module, name)
	}
	switch {
	case module == "torch._utils" && name == "_rebuild_tensor_v2":
		return &rebuildTensor{r}, nil
	case module == "torch._utils":
		return &rebuildParameter{name}, nil
	case module == "torch":
		return &storageClass{name, storageClasses[name]}, nil
	}
	// collections.OrderedDict is resolved by gopickle before it asks.
	return nil, fmt.Errorf("pickle global %s.%s: no Go equivalent", module, name)
}

// persistentLoad resolves ('storage', class, key, location, numel).
func (r *torchReader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() != 5 {
		return nil, fmt.Errorf("persistent id %s: want ('storage', class, key, location, numel)", describe(pid))
	}
	if tag, _ := t.Get(0).(string); tag != "storage" {
		return nil, fmt.Errorf("persistent id: unknown kind %s, want 'storage'", describe(t.Get(0)))
	}
	class, ok := t.Get(1).(*storageClass)
	if !ok {
		return nil, fmt.Errorf("persistent id: %s is not a storage class", describe(t.Get(1)))
	}
	key, ok := t.Get(2).(string)
	if !ok {
		return nil, fmt.Errorf("persistent id: storage key is %s, not a string", describe(t.Get(2)))
	}
	numel, err := toInt(t.Get(4))
	if err != nil || numel < 0 {
		return nil, fmt.Errorf("persistent id of storage %s: bad element count %s", quoted(key), describe(t.Get(4)))
	}
	size := dtypes[class.dtype].size
	if numel > maxTensorBytes/size {
		return nil, fmt.Errorf("storage %s: %d %s elements are over the %d-byte limit", quoted(key), numel, class.name, maxTensorBytes)
	}
	need := numel * size
	data, ok := r.storages[key]
	if !ok {
		zf, ok := r.records[key]
		if !ok {
			return nil, fmt.Errorf("storage %s: the archive has no data/ record of that name", quoted(key))
		}
		if zf.UncompressedSize64 < uint64(need) {
			return nil, fmt.Errorf("storage %s: %d %s elements need %d bytes, the record holds %d", quoted(key), numel, class.name, need, zf.UncompressedSize64)
		}
		if data, err = r.readRecord(zf); err != nil {
			return nil, err
		}
		r.storages[key] = data
	}
	if need > len(data) {
		return nil, fmt.Errorf("storage %s: %d %s elements need %d bytes, the record holds %d", quoted(key), numel, class.name, need, len(data))
	}
	return &storage{class: class, key: key, numel: numel, data: data}, nil
}

// Call rebuilds a tensor from (storage, storage_offset, size, stride,
// requires_grad, backward_hooks[, metadata]).
func (rt *rebuildTensor) Call(args ...any) (any, error) {
	if len(args) < 4 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: got %d arguments, want at least 4", len(args))
	}
	st, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: first argument is %s, not a storage", describe(args[0]))
	}
	offset, err := toInt(args[1])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage offset: %w", err)
	}
	shape, err := toInts(args[2])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size: %w", err)
	}
	stride, err := toInts(args[3])
	if err != nil {
		return nil, fmt.Errorf("_rebuild_tensor_v2: stride: %w", err)
	}
	return rt.r.view(st, offset, shape, stride)
}

// Call returns the tensor an nn.Parameter wraps.
func (rp *rebuildParameter) Call(args ...any) (any, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("%s: no arguments", rp.name)
	}
	if _, ok := args[0].(*Tensor); !ok {
		return nil, fmt.Errorf("%s: first argument is %s, not a tensor", rp.name, describe(args[0]))
	}
	return args[0], nil
}

// view materialises the strided view (offset, shape, stride) of a storage as
// a dense row-major tensor. Identical views return tensors sharing values.
func (r *torchReader) view(st *storage, offset int, shape, stride []int) (*Tensor, error) {
	desc := fmt.Sprintf("%s view of storage %s (offset %d, size %s, stride %s)", st.class.dtype, quoted(st.key), offset, shapeText(shape), shapeText(stride))
	if len(shape) != len(stride) {
		return nil, fmt.Errorf("%s: size and stride differ in length", desc)
	}
	size := dtypes[st.class.dtype].size
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("%s: negative size", desc)
		}
		if d > 0 && n > maxTensorBytes/size/d {
			return nil, fmt.Errorf("%s: over %d bytes", desc, maxTensorBytes)
		}
		n *= d
	}
	if offset < 0 {
		return nil, fmt.Errorf("%s: negative storage offset", desc)
	}
	if n > 0 {
		// The last element the view touches must lie inside the storage.
		if offset >= st.numel {
			return nil, fmt.Errorf("%s starts past the storage's %d elements", desc, st.numel)
		}
		last := offset
		for i, d := range shape {
			s := stride[i]
			if s < 0 {
				return nil, fmt.Errorf("%s: negative stride", desc)
			}
			if d > 1 && s > 0 {
				if d-1 > st.numel/s {
					return nil, fmt.Errorf("%s reaches past the storage's %d elements", desc, st.numel)
				}
				// Each term is at most numel (≤ 2^36), so saturating at
				// MaxInt/2 keeps the sum from wrapping around.
				last = min(last+(d-1)*s, math.MaxInt/2)
			}
		}
		if last >= st.numel {
			return nil, fmt.Errorf("%s reaches element %d of a %d-element storage", desc, last, st.numel)
		}
	}
	if t, ok := r.views[desc]; ok {
		return &Tensor{DType: t.DType, Shape: append([]int{}, shape...), F32: t.F32, I64: t.I64}, nil
	}
	// n*size ≤ maxTensorBytes (checked above).
	if uint64(n*size) > r.viewsLeft {
		return nil, fmt.Errorf("%s: the state dict's tensors would hold more than %d× the archive's %d bytes (views expanded past their storages: corrupt or crafted archive)",
			desc, viewFactor, r.size)
	}
	r.viewsLeft -= uint64(n * size)
	b := gather(st.data, size, offset, shape, stride, n)
	if r.bigEndian && size > 1 {
		for i := 0; i < len(b); i += size {
			e := b[i : i+size]
			for j, k := 0, size-1; j < k; j, k = j+1, k-1 {
				e[j], e[k] = e[k], e[j]
			}
		}
	}
	t := decode(st.class.dtype, shape, b)
	r.views[desc] = t
	return &Tensor{DType: t.DType, Shape: append([]int{}, shape...), F32: t.F32, I64: t.I64}, nil
}

// gather copies the n elements of a strided view, in row-major order, into a
// fresh contiguous buffer. Bounds were checked by the caller.
func gather(data []byte, size, offset int, shape, stride []int, n int) []byte {
	out := make([]byte, n*size)
	if n == 0 {
		return out
	}
	contiguous, want := true, 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && stride[i] != want {
			contiguous = false
			break
		}
		want *= shape[i]
	}
	if contiguous {
		copy(out, data[offset*size:(offset+n)*size])
		return out
	}
	idx := make([]int, len(shape))
	pos := offset
	for k := 0; k < n; k++ {
		copy(out[k*size:(k+1)*size], data[pos*size:(pos+1)*size])
		// Advance the multi-index like an odometer, last dimension fastest.
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d]++
			pos += stride[d]
			if idx[d] < shape[d] {
				break
			}
			pos -= idx[d] * stride[d]
			idx[d] = 0
		}
	}
	return out
}

// toInt converts a pickled Python int.
func toInt(v any) (int, error) {
	switch x := v.(type) {
	case int:
		return x, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case *big.Int:
		return 0, fmt.Errorf("integer %v is out of range", x)
	}
	return 0, fmt.Errorf("%s is not an integer", describe(v))
}

// toInts converts a pickled tuple (or list) of ints.
func toInts(v any) ([]int, error) {
	var items []any
	switch x := v.(type) {
	case *types.Tuple:
		items = *x
	case *types.List:
		items = *x
	default:
		return nil, fmt.Errorf("%s is not a tuple of integers", describe(v))
	}
	out := make([]int, len(items))
	for i, it := range items {
		n, err := toInt(it)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}
