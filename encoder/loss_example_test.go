package encoder_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/loss"
)

// GPL's training step: (query, positive, hard negative) triples labelled
// with the teacher's margin CE(q, p⁺) − CE(q, p⁻) (a cross-encoder's raw
// logits), trained with MarginMSE on dot-product scores.
func ExampleModel_Fit_marginMSE() {
	ctx := context.Background()
	m, err := encoder.Load(ctx, "../testdata/fixtures/distilbert-tiny", encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	examples := []encoder.Example{
		{Texts: []string{"what is python", "Python is a programming language.", "A python is a snake."}, Labels: []float64{7.5}},
		{Texts: []string{"what is go", "Go is a programming language from Google.", "Go is a board game."}, Labels: []float64{6.1}},
		{Texts: []string{"what is rust", "Rust is a systems programming language.", "Rust is iron oxide."}, Labels: []float64{8.2}},
		{Texts: []string{"what is java", "Java is a programming language for the JVM.", "Java is an island."}, Labels: []float64{5.4}},
	}
	opts := encoder.DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate = 1, 2, 1e-3
	res, err := m.Fit(ctx, examples, loss.NewMarginMSE(), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d steps\n", res.Steps)

	// Without the margins MarginMSE has nothing to regress onto.
	for i := range examples {
		examples[i].Labels = nil
	}
	_, err = m.Fit(ctx, examples, loss.NewMarginMSE(), opts)
	fmt.Println(err != nil)
	// Output:
	// 2 steps
	// true
}

// CachedMNRL trains with MultipleNegativesRankingLoss over big batches in
// the memory of small ones: Fit embeds each batch of 4 pairs 2 texts at a
// time (GradCache). Loss and gradients are MNRL's on the whole batch.
func ExampleModel_Fit_cachedMNRL() {
	ctx := context.Background()
	m, err := encoder.Load(ctx, "../testdata/fixtures/distilbert-tiny", encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	examples := []encoder.Example{
		{Texts: []string{"what is python", "Python is a programming language."}},
		{Texts: []string{"what is go", "Go is a programming language from Google."}},
		{Texts: []string{"what is rust", "Rust is a systems programming language."}},
		{Texts: []string{"what is java", "Java is a programming language for the JVM."}},
	}
	opts := encoder.DefaultFitOptions()
	opts.Epochs, opts.BatchSize, opts.LearningRate = 1, 4, 1e-3
	res, err := m.Fit(ctx, examples, loss.NewCachedMNRL(2), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d step, %d loss\n", res.Steps, len(res.Losses))
	// Output:
	// 1 step, 1 loss
}
