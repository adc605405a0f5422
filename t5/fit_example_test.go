package t5_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/genq-go/genq/t5"
)

// Fine-tuning the query generator on (passage, query) pairs and saving it as
// a folder that transformers' T5ForConditionalGeneration.from_pretrained and
// T5Tokenizer.from_pretrained (and t5.Load) read back. The tiny random
// checkpoint stands in for a real one such as
// BeIR/query-gen-msmarco-t5-base-v1.
func ExampleModel_Fit() {
	ctx := context.Background()
	m, err := t5.Load(ctx, "../testdata/fixtures/t5-tiny", t5.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	pairs := []t5.Pair{
		{Passage: "Berlin is the capital and largest city of Germany.", Query: "capital of germany"},
		{Passage: "Python is a high-level, general-purpose programming language.", Query: "what is python"},
		{Passage: "The Nile is a major north-flowing river in northeastern Africa.", Query: "longest river in africa"},
	}
	opts := t5.DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate, opts.WeightDecay = 4, 2, 1e-3, 0.01
	// Checkpoints make the run resumable: after an interruption, the same
	// call with opts.Resume set continues from the last one.
	if opts.CheckpointDir, err = os.MkdirTemp("", "t5-fit-checkpoints"); err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(opts.CheckpointDir)
	opts.CheckpointEvery = 2
	res, err := m.Fit(ctx, pairs, opts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d steps, loss fell: %v\n", len(res.Losses), res.Losses[len(res.Losses)-1] < res.Losses[0])

	dir, err := os.MkdirTemp("", "t5-fine-tuned")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := m.Save(dir); err != nil {
		log.Fatal(err)
	}
	back, err := t5.Load(ctx, dir, t5.LoadOptions{})
	if err != nil {
		log.Fatal(err)
	}
	before, _ := m.Score(ctx, []string{pairs[0].Passage}, []string{pairs[0].Query})
	after, _ := back.Score(ctx, []string{pairs[0].Passage}, []string{pairs[0].Query})
	fmt.Println("the saved model scores the same:", before[0] == after[0])
	// Output:
	// 8 steps, loss fell: true
	// the saved model scores the same: true
}
