package sugarme_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/genq-go/genq/encoder/sugarme"
	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/t5/sentencepiece"
)

// Load reads a tokenizer.json with sugarme; here the files are written by
// genq's own tokenizers from the checkpoints' vocab.txt and spiece.model.
func Example() {
	dir, err := os.MkdirTemp("", "sugarme")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	wp, err := wordpiece.Load("../../testdata/fixtures/bert-tiny")
	if err != nil {
		log.Fatal(err)
	}
	sp, err := sentencepiece.Load("../../testdata/fixtures/t5-tiny")
	if err != nil {
		log.Fatal(err)
	}
	bert, t5tok := viaSugarme(filepath.Join(dir, "bert.json"), wp.WriteTokenizerJSON),
		viaSugarme(filepath.Join(dir, "t5.json"), sp.WriteTokenizerJSON)

	ids, types, mask, err := bert.EncodeBatch([]string{"What is Python?", "Java"}, 128)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids, types, mask)
	fmt.Println(t5tok.Encode("Hello, world!", 0))
	_, err = t5tok.Encode("New\nlines\r\nand\ttabs", 0) // sugarme panics on this one
	fmt.Println(errors.Is(err, sugarme.ErrPanicked))
	// Output:
	// [[101 2054 2003 18750 1029 102] [101 9262 102 0 0 0]] [[0 0 0 0 0 0] [0 0 0 0 0 0]] [[1 1 1 1 1 1] [1 1 1 0 0 0]]
	// [8774 6 296 55 1] <nil>
	// true
}

// viaSugarme writes a tokenizer.json to path with write and loads it with
// sugarme.
func viaSugarme(path string, write func(io.Writer) error) *sugarme.Tokenizer {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := errors.Join(write(f), f.Close()); err != nil {
		log.Fatal(err)
	}
	tok, err := sugarme.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	return tok
}
