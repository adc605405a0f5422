package checkpoint_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

var models = []string{"t5-tiny", "t5-tiny-gated", "distilbert-tiny", "bert-tiny"}

func sortedKeys(m map[string]*checkpoint.Tensor) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestPyTorchMatchesSafetensors reads both weight files of every fixture
// model: the key sets are those golden.json["checkpoint_files"] lists, and
// every tensor present in both is bit-identical (tolerance 0).
func TestPyTorchMatchesSafetensors(t *testing.T) {
	for _, name := range models {
		t.Run(name, func(t *testing.T) {
			var files map[string][]string
			testutil.LoadGolden(t, name).Decode(t, "checkpoint_files", &files)
			bin, err := checkpoint.ReadPyTorch(testutil.Fixture(name, "pytorch_model.bin"))
			require.NoError(t, err)
			st, err := checkpoint.ReadSafetensors(testutil.Fixture(name, "model.safetensors"))
			require.NoError(t, err)
			for file, m := range map[string]map[string]*checkpoint.Tensor{"pytorch_model.bin": bin, "model.safetensors": st} {
				want := append([]string{}, files[file]...)
				sort.Strings(want)
				assert.Equal(t, want, sortedKeys(m), "%s keys", file)
			}
			common := map[string]*checkpoint.Tensor{}
			for k := range st {
				if _, ok := bin[k]; ok {
					common[k] = bin[k]
				}
			}
			want := map[string]*checkpoint.Tensor{}
			for k := range common {
				want[k] = st[k]
			}
			sameTensors(t, common, want)
			t.Logf("%d tensors in both files, all bit-identical (max |Δ| = 0)", len(common))
		})
	}
}

// TestPyTorchTiedWeights checks t5-tiny's four tied matrices: one storage in
// the .bin, read as one shared slice equal to safetensors' shared.weight.
func TestPyTorchTiedWeights(t *testing.T) {
	bin, err := checkpoint.ReadPyTorch(testutil.Fixture("t5-tiny", "pytorch_model.bin"))
	require.NoError(t, err)
	st, err := checkpoint.ReadSafetensors(testutil.Fixture("t5-tiny", "model.safetensors"))
	require.NoError(t, err)
	shared := bin["shared.weight"]
	for _, k := range []string{"encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"} {
		x := bin[k]
		require.NotNil(t, x, k)
		assert.True(t, x.ShapeEquals(32128, 16), "%s: shape %v", k, x.Shape)
		assert.Same(t, &shared.F32[0], &x.F32[0], "%s does not share shared.weight's values", k)
		sameTensors(t, map[string]*checkpoint.Tensor{k: x}, map[string]*checkpoint.Tensor{k: st["shared.weight"]})
	}
}

// pickler writes pickle protocol 2 opcodes, the subset torch.save uses.
type pickler struct{ bytes.Buffer }

func (p *pickler) str(s string) {
	p.WriteByte('X')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	p.WriteString(s)
}
func (p *pickler) int(n int) {
	if n != int(int32(n)) { // LONG1 of 8 bytes
		p.Write([]byte{0x8a, 8})
		p.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
		return
	}
	p.WriteByte('J')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(n))))
}
func (p *pickler) global(module, name string) { p.WriteString("c" + module + "\n" + name + "\n") }
func (p *pickler) ints(ns ...int) {
	p.WriteByte('(')
	for _, n := range ns {
		p.int(n)
	}
	p.WriteByte('t')
}

// view pickles torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
// False, OrderedDict()) as torch.save does.
type view struct {
	class, key    string
	numel, offset int
	size, stride  []int
	wrapParameter bool
}

func (p *pickler) view(v view) {
	if v.wrapParameter {
		p.global("torch._utils", "_rebuild_parameter")
		p.WriteByte('(')
	}
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.WriteString("((")
	p.str("storage")
	p.global("torch", v.class)
	p.str(v.key)
	p.str("cpu")
	p.int(v.numel)
	p.WriteString("tQ")
	p.int(v.offset)
	p.ints(v.size...)
	p.ints(v.stride...)
	p.WriteByte(0x89) // NEWFALSE
	p.global("collections", "OrderedDict")
	p.WriteString(")R") // OrderedDict()
	p.WriteString("tR")
	if v.wrapParameter {
		p.WriteByte(0x88) // NEWTRUE
		p.global("collections", "OrderedDict")
		p.WriteString(")RtR")
	}
}

// stateDict pickles {name: entry, ...}; entries write their own value.
func stateDictPickle(names []string, entry func(p *pickler, name string)) []byte {
	var p pickler
	p.WriteString("\x80\x02}(")
	for _, n := range names {
		p.str(n)
		entry(&p, n)
	}
	p.WriteString("u.")
	return p.Bytes()
}

// torchArchive writes a torch.save-style zip: archive/data.pkl plus records.
func torchArchive(t *testing.T, pkl []byte, records map[string][]byte) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name string, b []byte) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		require.NoError(t, err)
		w.Write(b)
	}
	put("archive/data.pkl", pkl)
	names := make([]string, 0, len(records))
	for k := range records {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		put("archive/"+k, records[k])
	}
	put("archive/version", []byte("3\n"))
	require.NoError(t, zw.Close())
	path := filepath.Join(t.TempDir(), "pytorch_model.bin")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

// TestPyTorchViews checks hand-made archives whose tensors are views with
// storage offsets and strides, other storage dtypes, parameters and big-endian
// data; values must match exactly.
func TestPyTorchViews(t *testing.T) {
	six := f32s(0, 1, 2, 3, 4, 5)
	le := binary.LittleEndian
	tests := []struct {
		name    string
		v       view
		records map[string][]byte
		dtype   string
		shape   []int
		f32     []float32
		i64     []int64
	}{
		{"contiguous", view{class: "FloatStorage", key: "0", numel: 6, size: []int{2, 3}, stride: []int{3, 1}},
			map[string][]byte{"data/0": six}, "F32", []int{2, 3}, []float32{0, 1, 2, 3, 4, 5}, nil},
		{"transposed (non-contiguous)", view{class: "FloatStorage", key: "0", numel: 6, size: []int{3, 2}, stride: []int{1, 3}},
			map[string][]byte{"data/0": six}, "F32", []int{3, 2}, []float32{0, 3, 1, 4, 2, 5}, nil},
		{"storage offset and stride 2", view{class: "FloatStorage", key: "0", numel: 6, offset: 1, size: []int{2}, stride: []int{2}},
			map[string][]byte{"data/0": six}, "F32", []int{2}, []float32{1, 3}, nil},
		{"row of a matrix", view{class: "FloatStorage", key: "0", numel: 6, offset: 3, size: []int{1, 3}, stride: []int{3, 1}},
			map[string][]byte{"data/0": six}, "F32", []int{1, 3}, []float32{3, 4, 5}, nil},
		{"column of a matrix", view{class: "FloatStorage", key: "0", numel: 6, offset: 2, size: []int{2, 1}, stride: []int{3, 1}},
			map[string][]byte{"data/0": six}, "F32", []int{2, 1}, []float32{2, 5}, nil},
		{"expanded (stride 0)", view{class: "FloatStorage", key: "0", numel: 6, size: []int{2, 3}, stride: []int{0, 1}},
			map[string][]byte{"data/0": six}, "F32", []int{2, 3}, []float32{0, 1, 2, 0, 1, 2}, nil},
		{"scalar", view{class: "FloatStorage", key: "0", numel: 6, offset: 4, size: []int{}, stride: []int{}},
			map[string][]byte{"data/0": six}, "F32", []int{}, []float32{4}, nil},
		{"empty", view{class: "FloatStorage", key: "0", numel: 0, size: []int{0, 3}, stride: []int{3, 1}},
			map[string][]byte{"data/0": nil}, "F32", []int{0, 3}, []float32{}, nil},
		{"parameter", view{class: "FloatStorage", key: "0", numel: 6, size: []int{6}, stride: []int{1}, wrapParameter: true},
			map[string][]byte{"data/0": six}, "F32", []int{6}, []float32{0, 1, 2, 3, 4, 5}, nil},
		{"half", view{class: "HalfStorage", key: "0", numel: 4, size: []int{4}, stride: []int{1}},
			map[string][]byte{"data/0": u16s(0x3c00, 0x0001, 0x7c00, 0x8000)}, "F16", []int{4},
			[]float32{1, 0x1p-24, float32(math.Inf(1)), float32(math.Copysign(0, -1))}, nil},
		{"bfloat16", view{class: "BFloat16Storage", key: "0", numel: 3, size: []int{3}, stride: []int{1}},
			map[string][]byte{"data/0": u16s(0x3f80, 0x0001, 0xff80)}, "BF16", []int{3},
			[]float32{1, 0x1p-133, float32(math.Inf(-1))}, nil},
		{"double", view{class: "DoubleStorage", key: "0", numel: 1, size: []int{1}, stride: []int{1}},
			map[string][]byte{"data/0": le.AppendUint64(nil, math.Float64bits(0.1))}, "F64", []int{1}, []float32{0.1}, nil},
		{"long", view{class: "LongStorage", key: "0", numel: 2, size: []int{1, 2}, stride: []int{2, 1}},
			map[string][]byte{"data/0": le.AppendUint64(le.AppendUint64(nil, 1<<40), uint64(1<<64-3))}, "I64", []int{1, 2}, nil, []int64{1 << 40, -3}},
		{"bool", view{class: "BoolStorage", key: "0", numel: 3, size: []int{3}, stride: []int{1}},
			map[string][]byte{"data/0": {1, 0, 1}}, "BOOL", []int{3}, nil, []int64{1, 0, 1}},
		{"big-endian archive", view{class: "FloatStorage", key: "0", numel: 2, size: []int{2}, stride: []int{1}},
			map[string][]byte{"data/0": {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0}, "byteorder": []byte("big")}, "F32", []int{2}, []float32{1, -2}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkl := stateDictPickle([]string{"x"}, func(p *pickler, _ string) { p.view(tc.v) })
			m, err := checkpoint.ReadPyTorch(torchArchive(t, pkl, tc.records))
			require.NoError(t, err)
			want := &checkpoint.Tensor{DType: tc.dtype, Shape: tc.shape, F32: tc.f32, I64: tc.i64}
			sameTensors(t, m, map[string]*checkpoint.Tensor{"x": want})
		})
	}
}

// TestPyTorchSharedViews checks that identical views of one storage share
// their values while other views of it do not.
func TestPyTorchSharedViews(t *testing.T) {
	whole := view{class: "FloatStorage", key: "0", numel: 6, size: []int{2, 3}, stride: []int{3, 1}}
	tail := view{class: "FloatStorage", key: "0", numel: 6, offset: 3, size: []int{3}, stride: []int{1}}
	pkl := stateDictPickle([]string{"a", "b", "c"}, func(p *pickler, name string) {
		if name == "c" {
			p.view(tail)
		} else {
			p.view(whole)
		}
	})
	m, err := checkpoint.ReadPyTorch(torchArchive(t, pkl, map[string][]byte{"data/0": f32s(0, 1, 2, 3, 4, 5)}))
	require.NoError(t, err)
	assert.Same(t, &m["a"].F32[0], &m["b"].F32[0], "a and b are the same view but do not share values")
	assert.Equal(t, []float32{3, 4, 5}, m["c"].F32)
	assert.NotSame(t, &m["a"].F32[3], &m["c"].F32[0], "c shares a's values, want its own copy")
}

func TestPyTorchRejects(t *testing.T) {
	six := map[string][]byte{"data/0": f32s(0, 1, 2, 3, 4, 5)}
	ok := view{class: "FloatStorage", key: "0", numel: 6, size: []int{6}, stride: []int{1}}
	withValue := func(value func(p *pickler)) []byte {
		return stateDictPickle([]string{"x"}, func(p *pickler, _ string) { value(p) })
	}
	tests := []struct {
		name    string
		pkl     []byte
		records map[string][]byte
		want    string
	}{
		{"os.system", withValue(func(p *pickler) { p.global("os", "system"); p.WriteString("("); p.str("echo hi"); p.WriteString("tR") }), six,
			"pickle global os.system is not allowed"},
		{"builtins.eval", withValue(func(p *pickler) { p.global("builtins", "eval"); p.WriteString("("); p.str("1"); p.WriteString("tR") }), six,
			"pickle global builtins.eval is not allowed"},
		{"torch function", withValue(func(p *pickler) { p.global("torch", "load"); p.WriteString(")R") }), six,
			"pickle global torch.load is not allowed"},
		{"unsupported storage", withValue(func(p *pickler) {
			p.view(view{class: "ComplexFloatStorage", key: "0", numel: 3, size: []int{3}, stride: []int{1}})
		}), six,
			"torch.ComplexFloatStorage: storage type not supported"},
		{"non-tensor value", withValue(func(p *pickler) { p.int(5) }), six, `state dict entry "x" is the integer 5, not a tensor`},
		{"view past the storage", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "0", numel: 6, size: []int{7}, stride: []int{1}})
		}), six,
			"reaches element 6 of a 6-element storage"},
		{"offset past the storage", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "0", numel: 6, offset: 5, size: []int{2, 2}, stride: []int{2, 1}})
		}), six,
			"reaches element 8"},
		// offset + 1 wrapped around to a negative "last element" once.
		{"offset near MaxInt64", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "0", numel: 6, offset: math.MaxInt64, size: []int{2}, stride: []int{1}})
		}), six,
			"starts past the storage's 6 elements"},
		{"huge stride", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "0", numel: 6, size: []int{2}, stride: []int{1 << 30}})
		}), six,
			"reaches past the storage"},
		{"size and stride lengths differ", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "0", numel: 6, size: []int{2, 3}, stride: []int{1}})
		}), six,
			"size and stride differ in length"},
		{"numel larger than the record", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "0", numel: 7, size: []int{7}, stride: []int{1}})
		}), six,
			"7 FloatStorage elements need 28 bytes, the record holds 24"},
		{"missing record", withValue(func(p *pickler) {
			p.view(view{class: "FloatStorage", key: "9", numel: 1, size: []int{1}, stride: []int{1}})
		}), six,
			`storage "9": the archive has no data/ record of that name`},
		{"top level not a dict", []byte("\x80\x02J\x05\x00\x00\x00."), six, "not a state dict"},
		{"truncated pickle", stateDictPickle([]string{"x"}, func(p *pickler, _ string) { p.view(ok) })[:40], six, "data.pkl"},
		{"empty LONG1", []byte("\x80\x02\x8a\x00."), six, "data.pkl"},
		{"length past the end", []byte("\x80\x02X\xff\xff\xff\x7f."), six, "argument of 2147483647 bytes runs past the end"},
		{"8-byte length past the end", []byte("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff."), six, "runs past the end"},
		// gopickle allocates a FRAME's declared size before reading it: a
		// 12-byte pickle asked for 1 TiB (a fatal out-of-memory, not a panic).
		{"frame past the end", []byte("\x80\x04\x95\x00\x00\x00\x00\x00\x01\x00\x00."), six, "pickle frame at byte 2: 1099511627776 bytes run past the end"},
		{"400 KB text integer", []byte("\x80\x02L" + strings.Repeat("7", 400_000) + "L\n."), six, "a number written with 400001 characters"},
		{"unknown opcode", []byte("\x80\x02\xff."), six, "unknown pickle opcode 0xff"},
		{"no STOP", []byte("\x80\x02}"), six, "without a STOP"},
		{"bad byteorder", withValue(func(p *pickler) { p.view(ok) }), map[string][]byte{"data/0": six["data/0"], "byteorder": []byte("middle")}, `byteorder record says "middle"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := checkpoint.ReadPyTorch(torchArchive(t, tc.pkl, tc.records))
			require.ErrorContains(t, err, tc.want, "read %v", m)
		})
	}
}

func TestPyTorchNotZip(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "legacy.bin")
	os.WriteFile(legacy, append([]byte("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."), make([]byte, 64)...), 0o644)
	garbage := filepath.Join(dir, "garbage.bin")
	os.WriteFile(garbage, []byte("this is not a checkpoint"), 0o644)
	tests := []struct{ path, want string }{
		{legacy, "legacy (pre-1.6, non-zip) torch.save file"},
		{legacy, "re-save it with torch>=1.6"},
		{garbage, "not a torch.save zip archive"},
		{filepath.Join(dir, "missing.bin"), "no such file"},
	}
	for _, tc := range tests {
		_, err := checkpoint.ReadPyTorch(tc.path)
		assert.ErrorContains(t, err, tc.want, "%s", filepath.Base(tc.path))
	}
}

// TestPyTorchOrderedDict reads a state dict pickled as an OrderedDict with the
// _metadata attribute nn.Module.state_dict() attaches.
func TestPyTorchOrderedDict(t *testing.T) {
	var p pickler
	p.WriteString("\x80\x02")
	p.global("collections", "OrderedDict")
	p.WriteString(")R(")
	p.str("w")
	p.view(view{class: "FloatStorage", key: "0", numel: 2, size: []int{2}, stride: []int{1}})
	p.WriteString("u}(") // state: {"_metadata": OrderedDict({"": {"version": 1}})}
	p.str("_metadata")
	p.global("collections", "OrderedDict")
	p.WriteString(")R(")
	p.str("")
	p.WriteString("}(")
	p.str("version")
	p.int(1)
	p.WriteString("uuub.")
	m, err := checkpoint.ReadPyTorch(torchArchive(t, p.Bytes(), map[string][]byte{"data/0": f32s(1.5, -2)}))
	require.NoError(t, err)
	sameTensors(t, m, map[string]*checkpoint.Tensor{"w": {DType: "F32", Shape: []int{2}, F32: []float32{1.5, -2}}})
}

// TestPyTorchGlobals checks that globals gopickle would resolve by itself are
// refused by name too, whether named by GLOBAL (checked before unpickling) or
// built with STACK_GLOBAL (protocol 4, checked as the unpickler meets them);
// the few STACK_GLOBAL names gopickle maps to inert Go values never reach the
// allow-list and are refused as state dict entries instead.
func TestPyTorchGlobals(t *testing.T) {
	stackGlobal := func(module, name string) func(p *pickler) {
		return func(p *pickler) {
			for _, s := range []string{module, name} {
				p.WriteByte(0x8c) // SHORT_BINUNICODE
				p.WriteByte(byte(len(s)))
				p.WriteString(s)
			}
			p.WriteString("\x93)R") // STACK_GLOBAL, call with ()
		}
	}
	tests := []struct {
		name  string
		value func(p *pickler)
		want  string
	}{
		{"GLOBAL builtins.list", func(p *pickler) { p.global("builtins", "list"); p.WriteString(")R") }, "pickle global builtins.list is not allowed"},
		{"GLOBAL copy_reg._reconstructor", func(p *pickler) {
			p.global("copy_reg", "_reconstructor")
			p.WriteByte('(')
			p.global("__builtin__", "object")
			p.global("__builtin__", "object")
			p.WriteString("NtR")
		}, "pickle global copy_reg._reconstructor is not allowed"},
		{"INST", func(p *pickler) { p.WriteString("(ios\nsystem\n") }, "pickle global os.system is not allowed"},
		{"STACK_GLOBAL os.system", stackGlobal("os", "system"), "pickle global os.system is not allowed"},
		{"STACK_GLOBAL builtins.list", stackGlobal("builtins", "list"), `state dict entry "x" is a list of 0 items, not a tensor`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkl := stateDictPickle([]string{"x"}, func(p *pickler, _ string) { tc.value(p) })
			_, err := checkpoint.ReadPyTorch(torchArchive(t, pkl, nil))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
