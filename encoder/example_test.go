package encoder_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/internal/testutil"
)

// Encode two texts with the tiny random-weight DistilBERT bi-encoder of the
// fixtures and compare them by cosine similarity.
func Example() {
	m, err := encoder.Load(context.Background(), testutil.Fixture("distilbert-tiny"), encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	emb, err := m.Encode(context.Background(), []string{"What is Python?", "Python is a programming language."},
		encoder.WithNormalize(true))
	if err != nil {
		fmt.Println(err)
		return
	}
	var cos float32
	for i := range emb[0] {
		cos += emb[0][i] * emb[1][i]
	}
	fmt.Printf("%d embeddings of %d values, cosine %.2f\n", len(emb), m.Dim(), cos)
	// Output: 2 embeddings of 16 values, cosine 0.89
}
