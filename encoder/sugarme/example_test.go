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
	bertJSON := filepath.Join(dir, "bert.json")
	wp, err := wordpiece.Load("../../testdata/fixtures/bert-tiny")
	if err != nil {
		log.Fatal(err)
	}
	if err := writeFile(bertJSON, wp.WriteTokenizerJSON); err != nil {
		log.Fatal(err)
	}
	bert, err := sugarme.Load(bertJSON)
	if err != nil {
		log.Fatal(err)
	}
	ids, types, mask, err := bert.EncodeBatch([]string{"What is Python?", "Java"}, 128)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ids, types, mask)

	t5JSON := filepath.Join(dir, "t5.json")
	sp, err := sentencepiece.Load("../../testdata/fixtures/t5-tiny")
	if err != nil {
		log.Fatal(err)
	}
	if err := writeFile(t5JSON, sp.WriteTokenizerJSON); err != nil {
		log.Fatal(err)
	}
	t5tok, err := sugarme.Load(t5JSON)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(t5tok.Encode("Hello, world!", 0))
	_, err = t5tok.Encode("New\nlines\r\nand\ttabs", 0) // sugarme panics on this one
	fmt.Println(errors.Is(err, sugarme.ErrPanicked))
	// Output:
	// [[101 2054 2003 18750 1029 102] [101 9262 102 0 0 0]] [[0 0 0 0 0 0] [0 0 0 0 0 0]] [[1 1 1 1 1 1] [1 1 1 0 0 0]]
	// [8774 6 296 55 1] <nil>
	// true
}

// writeFile writes what write produces to path.
func writeFile(path string, write func(w io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
