package encoder

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/testutil"
)

// TestSave saves each fixture model and checks the folder file by file
// against the fixture, which SentenceTransformer.save wrote: JSON files have
// the same keys and values, the model card and tokenizer files are
// byte-identical, model.safetensors holds the same names, shapes and bits;
// Load reads the weights back bit-identical. Saving again over the folder
// works too.
func TestSave(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			src := testutil.Fixture(name)
			m, err := Load(t.Context(), src, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "saved")
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
				"1_Pooling/config.json", "config.json", "tokenizer_config.json", "special_tokens_map.json"} {
				var got, want any
				readJSONFile(t, filepath.Join(dir, f), &got)
				readJSONFile(t, filepath.Join(src, f), &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s differs:\ngot  %v\nwant %v", f, got, want)
				}
			}
			for _, f := range []string{"README.md", "vocab.txt", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"} {
				got, _ := os.ReadFile(filepath.Join(dir, f))
				want, _ := os.ReadFile(filepath.Join(src, f))
				if !bytes.Equal(got, want) {
					t.Errorf("%s is not byte-identical to the fixture's", f)
				}
			}
			got, err := checkpoint.ReadSafetensors(filepath.Join(dir, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			want, err := checkpoint.ReadSafetensors(filepath.Join(src, "model.safetensors"))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("saved %d tensors, the fixture has %d", len(got), len(want))
			}
			for n, w := range want {
				if g, ok := got[n]; !ok || !reflect.DeepEqual(g.Shape, w.Shape) || !bitsEqual(g.F32, w.F32) {
					t.Errorf("model.safetensors: tensor %s missing or different", n)
				}
			}
			back, err := Load(t.Context(), dir, LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			assertSameWeights(t, back, m)
			if err := back.Save(dir); err != nil {
				t.Fatalf("saving over an existing folder: %v", err)
			}
			entries, _ := os.ReadDir(filepath.Dir(dir))
			if len(entries) != 1 {
				t.Errorf("Save left %d entries next to the folder, want none", len(entries)-1)
			}
		})
	}
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(a[i] != a[i] && b[i] != b[i]) {
			return false
		}
	}
	return true
}

// assertSameWeights checks that two models hold bit-identical weights.
func assertSameWeights(t *testing.T, got, want *Model) {
	t.Helper()
	gp, wp := append(got.body.params(), got.body.extras()...), append(want.body.params(), want.body.extras()...)
	if len(gp) != len(wp) {
		t.Fatalf("%d weights, want %d", len(gp), len(wp))
	}
	for i := range wp {
		if gp[i].name != wp[i].name || !bitsEqual(gp[i].data(), wp[i].data()) {
			t.Errorf("weight %s differs", wp[i].name)
		}
	}
}
