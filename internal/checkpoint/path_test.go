package checkpoint_test

import (
	"strings"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pathWeights() *checkpoint.Weights {
	f := func(shape ...int) *checkpoint.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return &checkpoint.Tensor{DType: "F32", Shape: shape, F32: make([]float32, n)}
	}
	return checkpoint.NewWeights(map[string]*checkpoint.Tensor{
		"shared.weight":                    f(10, 4),
		"encoder.block.0.layer.0.q.weight": f(4, 4),
		"encoder.block.1.layer.0.q.weight": f(4, 4),
		"encoder.final_layer_norm.weight":  f(4),
		"ids":                              {DType: "I64", Shape: []int{2}, I64: []int64{1, 2}},
		"pooler.dense.weight":              f(4, 4),
	}, "model.safetensors")
}

func TestPathKeysAndOrder(t *testing.T) {
	w := pathWeights()
	root := w.Root()
	enc := root.Pp("encoder")
	assert.Equal(t, "shared.weight", root.Pp("shared").Key("weight"))
	assert.Equal(t, "encoder.block.1.layer.0.q", enc.Pp("block").Index(1).Pp("layer").Index(0).Pp("q").Prefix())
	assert.True(t, enc.Pp("final_layer_norm").Has("weight"))
	assert.False(t, enc.Pp("final_layer_norm").Has("bias"))

	require.NotNil(t, root.Pp("shared").Get("weight", 10, 4))
	for i := 0; i < 2; i++ {
		q := enc.Pp("block").Index(i).Pp("layer").Index(0).Pp("q").Get("weight", 4, 4)
		require.NotNil(t, q)
	}
	require.NotNil(t, enc.Pp("final_layer_norm").Get("weight", 4))
	require.NoError(t, w.Err())
	assert.Equal(t, []string{"shared.weight", "encoder.block.0.layer.0.q.weight",
		"encoder.block.1.layer.0.q.weight", "encoder.final_layer_norm.weight"}, w.Order())
	assert.Equal(t, []string{"ids", "pooler.dense.weight"}, w.Unused())
}

func TestPathCollectsEveryError(t *testing.T) {
	w := pathWeights()
	root := w.Root()
	assert.Nil(t, root.Pp("shared").Get("weight", 11, 4), "wrong shape")
	assert.Nil(t, root.Pp("lm_head").Get("weight", 10, 4), "missing")
	assert.Nil(t, root.Pp("decoder").Pp("final_layer_norm").Get("weight", 4), "missing")
	assert.Nil(t, root.Get("ids", 2), "not a float tensor")
	err := w.Err()
	require.Error(t, err)
	assert.ErrorIs(t, err, checkpoint.ErrMissing)
	msg := err.Error()
	for _, want := range []string{"2 tensors the config needs are absent", "lm_head.weight", "decoder.final_layer_norm.weight",
		`"shared.weight" has shape [10 4], the config implies [11 4]`, `"ids" has dtype I64`, "model.safetensors"} {
		assert.Contains(t, msg, want)
	}
	assert.Empty(t, w.Order())
}

// TestErrIsShort: however many tensors are missing or mis-shaped, Err names
// the first few and counts the rest.
func TestErrIsShort(t *testing.T) {
	w := pathWeights()
	root := w.Root()
	const n = 10_000
	for i := range n {
		root.Pp("missing").Index(i).Get("weight", 4)
		root.Pp("shared").Get("weight", i+11, 4) // wrong shape
	}
	msg := w.Err().Error()
	assert.Contains(t, msg, "10000 tensors the config needs are absent")
	assert.Contains(t, msg, `"missing.4.weight" and 9995 more`)
	assert.Contains(t, msg, "and 9995 more mis-shaped or non-float tensors")
	assert.Less(t, len(msg), 2000, "message length")
}

func TestNameList(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes: cut at 120, on a rune boundary
	tests := []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{[]string{"a"}, `"a"`},
		{[]string{"a", "b", "c", "d", "e"}, `"a", "b", "c", "d", "e"`},
		{[]string{"a", "b", "c", "d", "e", "f", "g"}, `"a", "b", "c", "d", "e" and 2 more`},
		{[]string{long}, `"` + strings.Repeat("é", 60) + `"…`},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, checkpoint.NameList(tc.names))
	}
}
