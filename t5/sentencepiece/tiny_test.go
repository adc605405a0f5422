package sentencepiece

import (
	"slices"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
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
		if got := tok.encode(s, 0); !slices.Equal(got, untrunc[i]) {
			t.Errorf("text %d untruncated:\ngot  %v\nwant %v", i, got, untrunc[i])
		}
		got := tok.encode(s, 64)
		if !slices.Equal(got, trunc[i]) {
			t.Errorf("text %d truncated at 64:\ngot  %v\nwant %v", i, got, trunc[i])
		}
		var ps []string
		for _, id := range got {
			ps = append(ps, tok.IDToPiece(id))
		}
		if !slices.Equal(ps, pieces[i]) {
			t.Errorf("text %d pieces:\ngot  %q\nwant %q", i, ps, pieces[i])
		}
	}

	ids, mask := tok.EncodeBatch(texts, 64)
	wantIDs, wantMask := g.T(t, "input_ids"), g.T(t, "attention_mask")
	if got, want := flatten(ids), testutil.Ints(wantIDs); !slices.Equal(got, want) {
		t.Errorf("EncodeBatch ids:\ngot  %v\nwant %v", got, want)
	}
	if got, want := flatten(mask), testutil.Ints(wantMask); !slices.Equal(got, want) {
		t.Errorf("EncodeBatch mask:\ngot  %v\nwant %v", got, want)
	}
	if len(ids) != wantIDs.Shape[0] || len(ids[0]) != wantIDs.Shape[1] {
		t.Errorf("EncodeBatch shape [%d %d], want %v", len(ids), len(ids[0]), wantIDs.Shape)
	}

	var settings struct {
		LenTokenizer int `json:"len_tokenizer"`
		PadTokenID   int `json:"pad_token_id"`
		EOSTokenID   int `json:"eos_token_id"`
		UnkTokenID   int `json:"unk_token_id"`
	}
	g.Decode(t, "tokenizer", &settings)
	if tok.Len() != settings.LenTokenizer || tok.PadID() != settings.PadTokenID ||
		tok.EOSID() != settings.EOSTokenID || tok.UnkID() != settings.UnkTokenID {
		t.Errorf("Len/PadID/EOSID/UnkID = %d/%d/%d/%d, want %+v", tok.Len(), tok.PadID(), tok.EOSID(), tok.UnkID(), settings)
	}

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
			if got := tok.decode(flat[i*n:(i+1)*n], c.skip); got != want {
				t.Errorf("%s row %d:\ngot  %q\nwant %q", c.name, i, got, want)
			}
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
