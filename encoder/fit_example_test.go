package encoder_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/loss"
)

// Fine-tune the tiny random-weight DistilBERT bi-encoder of the fixtures on
// (query, passage, hard negative) triplets with MultipleNegativesRankingLoss,
// evaluating at the end of every epoch.
func ExampleModel_Fit() {
	ctx := context.Background()
	m, err := encoder.Load(ctx, "../testdata/fixtures/distilbert-tiny", encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	examples := []encoder.Example{
		{Texts: []string{"what is python", "Python is a programming language.", "A python is a snake."}},
		{Texts: []string{"what is go", "Go is a programming language from Google.", "Go is a board game."}},
		{Texts: []string{"what is rust", "Rust is a systems programming language.", "Rust is iron oxide."}},
		{Texts: []string{"what is java", "Java is a programming language for the JVM.", "Java is an island."}},
	}
	opts := encoder.DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate = 2, 2, 1e-3
	opts.Evaluate = func(ctx context.Context, s encoder.FitStatus) error {
		emb, err := m.Encode(ctx, []string{"what is go"}) // the model as trained so far
		if err != nil {
			return err
		}
		fmt.Printf("epoch %d: step %d of %d, %d-dim embeddings\n", s.Epoch, s.Step, s.TotalSteps, len(emb[0]))
		return nil
	}
	res, err := m.Fit(ctx, examples, loss.NewMNRL(), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps, %d losses\n", res.Steps, len(res.Losses))
	// Output:
	// epoch 0: step 2 of 4, 16-dim embeddings
	// epoch 1: step 4 of 4, 16-dim embeddings
	// 4 steps, 4 losses
}
