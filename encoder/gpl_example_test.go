package encoder_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/loss"
)

// GPL on generated queries: mine hard negatives with the retrievers, label
// each (query, positive, negative) with the cross-encoder's logit margin,
// and train with MarginMSE. The tiny random-weight fixtures stand in for
// GPL's models (encoder.GPLRetrievers(), encoder.GPLCrossEncoder), so the
// margins mean nothing here.
func ExampleGPLExamples() {
	ctx := context.Background()
	corpus := []string{
		"Go has goroutines and channels.",
		"Rust has ownership and borrowing.",
		"PostgreSQL stores JSON documents.",
		"Matplotlib draws charts in Python.",
	}
	// The caller's query generation (t5): a query per passage.
	queries := []encoder.GeneratedQuery{
		{Query: "go concurrency", PassageID: 0},
		{Query: "rust memory safety", PassageID: 1},
		{Query: "json database", PassageID: 2},
		{Query: "python plots", PassageID: 3},
	}
	retriever, err := encoder.Load(ctx, "../testdata/fixtures/bert-tiny", encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ce, err := encoder.LoadCrossEncoder(ctx, tinyCrossEncoder, encoder.CrossEncoderOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := encoder.DefaultGPLOptions()
	opts.Steps, opts.BatchSize = 2, 2
	examples, err := encoder.GPLExamples(ctx, queries, corpus, []*encoder.Model{retriever}, ce, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d examples of %d texts and %d label\n", len(examples), len(examples[0].Texts), len(examples[0].Labels))

	student, err := encoder.Load(ctx, "../testdata/fixtures/distilbert-tiny", encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fit := encoder.DefaultFitOptions()
	fit.Epochs, fit.BatchSize = 1, opts.BatchSize
	res, err := student.Fit(ctx, examples, loss.NewMarginMSE(), fit)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("training steps:", len(res.Losses))
	fmt.Println("GPL generates", encoder.GPLQueriesPerPassage(len(corpus)), "queries per passage for this corpus")
	// Output:
	// 4 examples of 3 texts and 1 label
	// training steps: 2
	// GPL generates 62500 queries per passage for this corpus
}
