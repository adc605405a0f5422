package checkpoint_test

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/checkpoint"
)

// t5BaseShapes returns the tensor names and shapes of t5-base's checkpoint
// (d_model 768, d_ff 3072, 12 heads, 12 encoder and 12 decoder blocks,
// vocabulary 32128, 32 relative-attention buckets): 222.9M float32 values.
// The tied embeddings are stored once, as shared.weight.
func t5BaseShapes() map[string][]int {
	const dModel, dFF, heads, layers, vocab, buckets = 768, 3072, 12, 12, 32128, 32
	s := map[string][]int{
		"shared.weight":                   {vocab, dModel},
		"encoder.final_layer_norm.weight": {dModel},
		"decoder.final_layer_norm.weight": {dModel},
	}
	attention := func(prefix string) {
		for _, p := range []string{"q", "k", "v", "o"} {
			s[prefix+"."+p+".weight"] = []int{dModel, dModel}
		}
	}
	for _, stack := range []string{"encoder", "decoder"} {
		s[stack+".block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = []int{buckets, heads}
		for i := range layers {
			block := fmt.Sprintf("%s.block.%d.layer.", stack, i)
			attention(block + "0.SelfAttention")
			ff := 1
			if stack == "decoder" {
				attention(block + "1.EncDecAttention")
				s[block+"1.layer_norm.weight"] = []int{dModel}
				ff = 2
			}
			s[block+"0.layer_norm.weight"] = []int{dModel}
			s[fmt.Sprintf("%s%d.DenseReluDense.wi.weight", block, ff)] = []int{dFF, dModel}
			s[fmt.Sprintf("%s%d.DenseReluDense.wo.weight", block, ff)] = []int{dModel, dFF}
			s[fmt.Sprintf("%s%d.layer_norm.weight", block, ff)] = []int{dModel}
		}
	}
	return s
}

// t5BaseTensors fills t5BaseShapes with small deterministic values.
func t5BaseTensors() map[string]*checkpoint.Tensor {
	m := map[string]*checkpoint.Tensor{}
	for name, shape := range t5BaseShapes() {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i%1999-999) * 1e-4
		}
		m[name] = &checkpoint.Tensor{DType: "F32", Shape: shape, F32: v}
	}
	return m
}

// writeTorchSave writes tensors as torch.save of a state dict does (zip
// archive, pickle protocol 2, one little-endian FloatStorage record per
// tensor), with encoder.embed_tokens.weight and decoder.embed_tokens.weight
// as further views of shared.weight's storage, as in the hub's t5-base
// pytorch_model.bin.
func writeTorchSave(path string, tensors map[string]*checkpoint.Tensor) error {
	names := make([]string, 0, len(tensors))
	for k := range tensors {
		names = append(names, k)
	}
	sort.Strings(names)
	key := map[string]string{}
	for i, n := range names {
		key[n] = fmt.Sprint(i)
	}
	tied := []string{"encoder.embed_tokens.weight", "decoder.embed_tokens.weight"}
	all := append(append([]string(nil), names...), tied...)
	pkl := stateDictPickle(all, func(p *pickler, name string) {
		src := name
		if name == tied[0] || name == tied[1] {
			src = "shared.weight"
		}
		t := tensors[src]
		stride := make([]int, len(t.Shape))
		for i, n := len(t.Shape)-1, 1; i >= 0; i-- {
			stride[i] = n
			n *= t.Shape[i]
		}
		p.view(view{class: "FloatStorage", key: key[src], numel: len(t.F32), size: t.Shape, stride: stride})
	})

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	zw := zip.NewWriter(bw)
	put := func(name string, write func(w *bufio.Writer) error) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "pytorch_model/" + name, Method: zip.Store})
		if err != nil {
			return err
		}
		rw := bufio.NewWriterSize(w, 1<<16)
		if err := write(rw); err != nil {
			return err
		}
		return rw.Flush()
	}
	if err := put("data.pkl", func(w *bufio.Writer) error { _, err := w.Write(pkl); return err }); err != nil {
		return err
	}
	if err := put("byteorder", func(w *bufio.Writer) error { _, err := w.WriteString("little"); return err }); err != nil {
		return err
	}
	for _, n := range names {
		err := put("data/"+key[n], func(w *bufio.Writer) error {
			var b [4]byte
			for _, v := range tensors[n].F32 {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
				if _, err := w.Write(b[:]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := put("version", func(w *bufio.Writer) error { _, err := w.WriteString("3\n"); return err }); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// BenchmarkOpenT5Base times checkpoint.Open of a t5-base-sized folder (892 MB
// of float32 weights) holding model.safetensors, then one holding only
// pytorch_model.bin. The files are written to a temporary folder first and
// are read from the page cache, so the numbers are parsing and copying, not
// disk speed. Needs about 3 GB of memory; skipped under -short.
func BenchmarkOpenT5Base(b *testing.B) {
	if testing.Short() {
		b.Skip("writes and reads two 892 MB checkpoints: skipped under -short")
	}
	want := t5BaseShapes()
	tensors := t5BaseTensors()
	stDir, ptDir := filepath.Join(b.TempDir(), "st"), filepath.Join(b.TempDir(), "pt")
	for _, d := range []string{stDir, ptDir} {
		require.NoError(b, os.Mkdir(d, 0o755))
	}
	require.NoError(b, checkpoint.WriteSafetensors(filepath.Join(stDir, "model.safetensors"), tensors, map[string]string{"format": "pt"}))
	require.NoError(b, writeTorchSave(filepath.Join(ptDir, "pytorch_model.bin"), tensors))
	tensors = nil
	runtime.GC()

	for _, c := range []struct{ name, dir, file string }{
		{"safetensors", stDir, "model.safetensors"},
		{"pytorch", ptDir, "pytorch_model.bin"},
	} {
		b.Run(c.name, func(b *testing.B) {
			fi, err := os.Stat(filepath.Join(c.dir, c.file))
			require.NoError(b, err)
			b.SetBytes(fi.Size())
			for b.Loop() {
				w, err := checkpoint.Open(c.dir)
				require.NoError(b, err)
				b.StopTimer()
				for name, shape := range want {
					_, err := w.Get(shape, name)
					require.NoError(b, err)
				}
				w = nil
				runtime.GC()
				b.StartTimer()
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/load")
		})
	}
}
