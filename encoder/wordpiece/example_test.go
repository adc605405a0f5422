package wordpiece_test

import (
	"fmt"
	"log"

	"github.com/genq-go/genq/encoder/wordpiece"
)

// Load reads the tokenizer of a BERT checkpoint folder. Tokens is HF's
// tokenize, Encode adds [CLS] and [SEP], EncodeBatch pads as
// SentenceTransformer.tokenize does.
func Example() {
	tok, err := wordpiece.Load("../../testdata/fixtures/bert-tiny") // vocab.txt + tokenizer_config.json
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Tokens("Crème brûlée is unaffable!"))

	enc := tok.Encode("What is Python?", 128)
	fmt.Println(enc.IDs, enc.Mask, len(enc.IDs), "tokens")
	fmt.Println(tok.Decode(enc.IDs, true))

	ids, _, mask, _ := tok.EncodeBatch([]string{"What is Python?", "Java"}, 128) // never fails
	fmt.Println(ids[1], mask[1])
	// Output:
	// [cr ##eme br ##ule ##e is una ##ffa ##ble !]
	// [101 2054 2003 18750 1029 102] [1 1 1 1 1 1] 6 tokens
	// what is python?
	// [101 9262 102 0 0 0] [1 1 1 0 0 0]
}
