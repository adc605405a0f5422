package sentencepiece_test

import (
	"fmt"
	"log"

	"github.com/genq-go/genq/t5/sentencepiece"
)

// Load reads the tokenizer of a T5 checkpoint folder; Encode appends </s> and
// truncates, Decode drops the special tokens when asked.
func Example() {
	tok, err := sentencepiece.Load("../../testdata/fixtures/t5-tiny") // spiece.model + tokenizer_config.json
	if err != nil {
		log.Fatal(err)
	}
	text := "Hello, world! <extra_id_0> ﬁne"
	ids, _ := tok.Encode(text, 0) // never fails
	fmt.Println(ids, len(ids), "tokens")
	fmt.Println(tok.Pieces(text))
	fmt.Printf("%q\n", must(tok.Decode(ids, true)))
	fmt.Printf("%q\n", must(tok.Decode(ids, false)))
	fmt.Println(must(tok.Encode("Hello, world!", 3)))
	// Output:
	// [8774 6 296 55 32099 1399 1] 7 tokens
	// [▁Hello , ▁world ! <extra_id_0> ▁fine </s>]
	// "Hello, world! fine"
	// "Hello, world! <extra_id_0> fine</s>"
	// [8774 6 1]
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
