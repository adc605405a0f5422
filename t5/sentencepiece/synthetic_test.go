package sentencepiece

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// buildModelProto serializes a small ModelProto: pieces (piece, score, type),
// a trainer spec (Unigram, unk id 0, byte_fallback) and a normalizer spec
// without charsmap.
func buildModelProto(pieces []protoPiece, byteFallback bool) []byte {
	var b []byte
	for _, p := range pieces {
		var m []byte
		m = protowire.AppendTag(m, 1, protowire.BytesType)
		m = protowire.AppendString(m, p.piece)
		m = protowire.AppendTag(m, 2, protowire.Fixed32Type)
		m = protowire.AppendFixed32(m, math.Float32bits(p.score))
		m = protowire.AppendTag(m, 3, protowire.VarintType)
		m = protowire.AppendVarint(m, uint64(p.typ))
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	var ts []byte
	ts = protowire.AppendTag(ts, 3, protowire.VarintType)
	ts = protowire.AppendVarint(ts, modelUnigram)
	ts = protowire.AppendTag(ts, 35, protowire.VarintType)
	ts = protowire.AppendVarint(ts, protowire.EncodeBool(byteFallback))
	ts = protowire.AppendTag(ts, 40, protowire.VarintType)
	ts = protowire.AppendVarint(ts, 0)
	ts = protowire.AppendTag(ts, 41, protowire.VarintType)
	ts = protowire.AppendVarint(ts, uint64(math.MaxUint64)) // bos_id = -1
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	b = protowire.AppendBytes(b, ts)
	var ns []byte
	ns = protowire.AppendTag(ns, 1, protowire.BytesType)
	ns = protowire.AppendString(ns, "identity")
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	return protowire.AppendBytes(b, ns)
}

// TestSyntheticModel checks the parts of sentencepiece that T5's model does
// not exercise, on a hand-made model: user-defined symbols (kept whole by the
// normalizer and preferred by the Viterbi), byte fallback for unknown
// characters, unused pieces, ties (the earlier start wins) and decoding of
// byte pieces.
func TestSyntheticModel(t *testing.T) {
	pieces := []protoPiece{
		{"<unk>", 0, typeUnknown},
		{"</s>", 0, typeControl},
		{"▁", -1, typeNormal},
		{"a", -2, typeNormal},
		{"b", -2, typeNormal},
		{"ab", -4, typeNormal}, // ties with a+b: the longer piece starts earlier and wins
		{"▁a", -1.5, typeNormal},
		{"c", -3, typeNormal},
		{"cc", -1, typeUnused}, // never produced
		{"[X]", 0, typeUserDefined},
	}
	for i := 0; i < 256; i++ {
		pieces = append(pieces, protoPiece{fmt.Sprintf("<0x%02X>", i), 0, typeByte})
	}
	mp, err := parseModelProto(buildModelProto(pieces, true))
	require.NoError(t, err)
	require.Equal(t, int32(-1), mp.trainer.bosID)
	require.True(t, mp.trainer.byteFallback)
	require.Equal(t, "identity", mp.normalizer.name)
	require.True(t, mp.normalizer.addDummyPrefix)
	m, err := newModel(mp)
	require.NoError(t, err)
	for _, c := range []struct {
		text string
		want []string
	}{
		{"ab", []string{"▁a", "b"}},
		{"b ab", []string{"▁", "b", "▁a", "b"}},
		{"bab", []string{"▁", "b", "ab"}},
		{"cc", []string{"▁", "c", "c"}},
		{"a[X]b", []string{"▁a", "[X]", "b"}},
		{"aé", []string{"▁a", "<0xC3>", "<0xA9>"}},
		{"  a  ", []string{"▁a"}},
		{"", nil},
	} {
		var got []string
		for _, s := range m.encode(c.text) {
			got = append(got, s.piece)
		}
		assert.Equal(t, c.want, got, "encode(%q)", c.text)
	}
	// A string outside the vocabulary is copied as it is, "▁" included.
	assert.Equal(t, "aé\uFFFD a \u2047 ▁zz", m.decodePieces([]string{"▁a", "<0xC3>", "<0xA9>", "</s>", "<0xFF>", "▁a", "<unk>", "▁zz"}))
}
