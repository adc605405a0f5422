package train_test

import (
	"fmt"
	"log"

	"github.com/genq-go/genq/internal/train"
)

// Two of the four (query, passage) pairs share a query, so they never meet
// in a batch.
func ExampleNoDuplicates() {
	pairs := [][]string{
		{"what is go", "Go is a programming language."},
		{"What is Go ", "Go was designed at Google."},
		{"who made python", "Guido van Rossum created Python."},
		{"what is rust", "Rust is a systems language."},
	}
	batcher, err := train.NewNoDuplicates(pairs, 2, 1)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("batches per epoch:", batcher.Len())
	for i := 0; i < 4; i++ {
		b, err := batcher.Next()
		if err != nil {
			log.Fatal(err)
		}
		together := (b[0] == 0 && b[1] == 1) || (b[0] == 1 && b[1] == 0)
		fmt.Println(len(b), "examples, duplicate query:", together)
	}
	// Output:
	// batches per epoch: 2
	// 2 examples, duplicate query: false
	// 2 examples, duplicate query: false
	// 2 examples, duplicate query: false
	// 2 examples, duplicate query: false
}
