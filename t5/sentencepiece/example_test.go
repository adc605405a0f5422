package sentencepiece_test

import (
	"fmt"

	"github.com/genq-go/genq/t5/sentencepiece"
	"github.com/genq-go/genq/internal/testutil"
)

func Example() {
	tok, err := sentencepiece.Load(testutil.Fixture("t5-tiny"))
	if err != nil {
		fmt.Println(err)
		return
	}
	ids := tok.Encode("Hello, world! <extra_id_0> ﬁne", 0)
	fmt.Println(ids)
	fmt.Println(tok.Pieces("Hello, world! <extra_id_0> ﬁne"))
	fmt.Printf("%q\n", tok.Decode(ids, true))
	fmt.Printf("%q\n", tok.Decode(ids, false))
	fmt.Println(tok.Encode("Hello, world!", 3))
	// Output:
	// [8774 6 296 55 32099 1399 1]
	// [▁Hello , ▁world ! <extra_id_0> ▁fine </s>]
	// "Hello, world! fine"
	// "Hello, world! <extra_id_0> fine</s>"
	// [8774 6 1]
}
