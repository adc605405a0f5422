package encoder_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/encoder"
)

// tinyCrossEncoder is the tiny random-weight cross-encoder of the
// repository's fixtures, configured as cross-encoder/ms-marco-MiniLM-L-6-v2
// is (raw logits); use that model id or a folder of your own.
const tinyCrossEncoder = "../testdata/fixtures/cross-encoder-tiny"

// Score (query, passage) pairs with a cross-encoder, as sentence-transformers'
// CrossEncoder.predict does, then as probabilities with a sigmoid.
func ExampleCrossEncoder_Predict() {
	ctx := context.Background()
	ce, err := encoder.LoadCrossEncoder(ctx, tinyCrossEncoder, encoder.CrossEncoderOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	pairs := [][2]string{
		{"what is python", "Python is an interpreted, high-level and general-purpose programming language."},
		{"what is python", "Java is a class-based, object-oriented programming language."},
	}
	scores, err := ce.Predict(ctx, pairs)
	if err != nil {
		fmt.Println(err)
		return
	}
	probs, err := ce.Predict(ctx, pairs, encoder.WithActivation(encoder.ActivationSigmoid))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("activation:", ce.Activation())
	for i := range pairs {
		fmt.Printf("%.3f %.3f\n", scores[i], probs[i])
	}
	// The fixture's weights are random: the scores check the plumbing (they
	// equal sentence-transformers' for the same checkpoint), not relevance.

	// Output:
	// activation: torch.nn.modules.linear.Identity
	// 0.162 0.540
	// 0.191 0.548
}

// GPL's pseudo label of a (query, positive, negative) triple is the margin
// of the cross-encoder's raw logits, CE(q, p⁺) − CE(q, p⁻).
func ExampleCrossEncoder_PredictLogits() {
	ctx := context.Background()
	ce, err := encoder.LoadCrossEncoder(ctx, tinyCrossEncoder, encoder.CrossEncoderOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	q := "what is python"
	logits, err := ce.PredictLogits(ctx, [][2]string{
		{q, "Python is an interpreted, high-level and general-purpose programming language."},
		{q, "Java is a class-based, object-oriented programming language."},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("margin %.3f\n", logits[0]-logits[1])
	// Output: margin -0.028
}
