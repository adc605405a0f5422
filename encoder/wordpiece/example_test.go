package wordpiece_test

import (
	"fmt"
	"log"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/genq-go/genq/encoder/wordpiece"
)

func Example() {
	tok, err := wordpiece.Load(testutil.Fixture("bert-tiny")) // vocab.txt + tokenizer_config.json
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Tokens("Crème brûlée is unaffable!"))

	enc := tok.Encode("What is Python?", 128)
	fmt.Println(enc.IDs, enc.Mask)
	fmt.Println(tok.Decode(enc.IDs, true))

	batch := tok.EncodeBatch([]string{"What is Python?", "Java"}, 128)
	fmt.Println(batch.IDs[1], batch.Mask[1])
	// Output:
	// [cr ##eme br ##ule ##e is una ##ffa ##ble !]
	// [101 2054 2003 18750 1029 102] [1 1 1 1 1 1]
	// what is python?
	// [101 9262 102 0 0 0] [1 1 1 0 0 0]
}
