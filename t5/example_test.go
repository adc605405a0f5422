package t5_test

import (
	"context"
	"fmt"
	"log"

	"github.com/genq-go/genq/t5"
)

// Greedy generation with the tiny random-weight test checkpoint (its
// "queries" are nonsense; a real query generator such as
// BeIR/query-gen-msmarco-t5-base-v1 loads the same way).
func ExampleModel_Generate() {
	m, err := t5.Load(context.Background(), "../testdata/fixtures/t5-tiny", t5.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	opts := t5.DefaultGenerateOptions()
	opts.DoSample, opts.NumReturnSequences, opts.MaxLength = false, 1, 6
	queries, err := m.Generate(context.Background(), []string{"Berlin"}, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", queries[0])
	// Output:
	// ["deliveries deliveries deliveries deliveries deliveries"]
}

// Sampling as GenQ does it: top-k 50, top-p 0.95, several queries per passage.
func ExampleDefaultGenerateOptions() {
	opts := t5.DefaultGenerateOptions()
	fmt.Println(opts.MaxInputLength, opts.MaxLength, opts.NumReturnSequences, opts.DoSample, opts.TopK, opts.TopP)
	// Output:
	// 300 64 5 true 50 0.95
}

// The log-likelihood of a query given a passage.
func ExampleModel_Score() {
	m, err := t5.Load(context.Background(), "../testdata/fixtures/t5-tiny", t5.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	scores, err := m.Score(context.Background(), []string{"Berlin"}, []string{"berlin"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.2f\n", scores[0])
	// Output:
	// -32.14
}
