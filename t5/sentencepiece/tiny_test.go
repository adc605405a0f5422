package sentencepiece

import (
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
)

// TestT5TinyGolden checks the t5-tiny fixture: per-text ids with and without
// truncation at 64, the token strings, the padded batch the model was fed, the
// tokenizer settings, and the decodes of the greedy and beam outputs.
func TestT5TinyGolden(t *testing.T) {
	tok := loadT5(t)
	g := testutil.LoadGolden(t, "t5-tiny")
	var texts []string
	var untrunc, trunc [][]int
	var pieces [][]string
	g.Decode(t, "texts", &texts)
	g.Decode(t, "tokens_untruncated", &untrunc)
	g.Decode(t, "tokens_truncated_64", &trunc)
	g.Decode(t, "pieces_truncated_64", &pieces)
	for i, s := range texts {
		assert.Equal(t, untrunc[i], tok.encode(s, 0), "text %d untruncated", i)
		got := tok.encode(s, 64)
		assert.Equal(t, trunc[i], got, "text %d truncated at 64", i)
		var ps []string
		for _, id := range got {
			ps = append(ps, tok.IDToPiece(id))
		}
		assert.Equal(t, pieces[i], ps, "text %d pieces", i)
	}

	ids, mask := tok.EncodeBatch(texts, 64)
	wantIDs, wantMask := g.T(t, "input_ids"), g.T(t, "attention_mask")
	assert.Equal(t, testutil.Ints(wantIDs), flatten(ids), "EncodeBatch ids")
	assert.Equal(t, testutil.Ints(wantMask), flatten(mask), "EncodeBatch mask")
	assert.Equal(t, []int{wantIDs.Shape[0], wantIDs.Shape[1]}, []int{len(ids), len(ids[0])}, "EncodeBatch shape")

	var settings struct {
		LenTokenizer int `json:"len_tokenizer"`
		PadTokenID   int `json:"pad_token_id"`
		EOSTokenID   int `json:"eos_token_id"`
		UnkTokenID   int `json:"unk_token_id"`
	}
	g.Decode(t, "tokenizer", &settings)
	assert.Equal(t, []int{settings.LenTokenizer, settings.PadTokenID, settings.EOSTokenID, settings.UnkTokenID},
		[]int{tok.Len(), tok.PadID(), tok.EOSID(), tok.UnkID()}, "Len, PadID, EOSID, UnkID")

	var greedy struct {
		Skip []string `json:"decoded_skip_special_tokens"`
		With []string `json:"decoded_with_special_tokens"`
	}
	var beam struct {
		Skip []string `json:"decoded_skip_special_tokens"`
	}
	g.Decode(t, "greedy", &greedy)
	g.Decode(t, "beam", &beam)
	for _, c := range []struct {
		name   string
		tensor string
		skip   bool
		want   []string
	}{
		{"greedy skip", "greedy.sequences", true, greedy.Skip},
		{"greedy with specials", "greedy.sequences", false, greedy.With},
		{"beam skip", "beam.sequences", true, beam.Skip},
	} {
		seqs := g.T(t, c.tensor)
		flat := testutil.Ints(seqs)
		n := seqs.Shape[1]
		for i, want := range c.want {
			assert.Equal(t, want, tok.decode(flat[i*n:(i+1)*n], c.skip), "%s row %d", c.name, i)
		}
	}
}

func flatten(rows [][]int) []int {
	var out []int
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}
