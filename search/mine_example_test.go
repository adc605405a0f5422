package search_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/search"
)

func ExampleMineHardNegatives() {
	// Embeddings of three queries and five passages by one model (in
	// practice, encoder output); query i was generated from passage i.
	retriever := search.Retriever{
		Queries: [][]float32{{1, 0.1}, {0.1, 1}, {1, 1}},
		Corpus: [][]float32{
			{1, 0},     // 0
			{0, 1},     // 1
			{0.7, 0.7}, // 2
			{0.9, 0.3}, // 3
			{-1, -0.2}, // 4
		},
	}
	pairs := []search.Pair{{Query: 0, Positive: 0}, {Query: 1, Positive: 1}, {Query: 2, Positive: 2}}
	mined, err := search.MineHardNegatives(context.Background(), pairs, []search.Retriever{retriever},
		search.WithNegatives(2), search.WithRelativeMargin(0.05))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range mined {
		fmt.Printf("query %d, positive %d (cosine %.3f):", m.Query, m.Positive, m.PositiveScores[0])
		for _, n := range m.Negatives {
			fmt.Printf(" %d (%.3f)", n.CorpusID, n.Score)
		}
		fmt.Println()
	}
	fmt.Println(search.Triplets(mined))
	// Passage 3 scores 0.976 for query 0, above 95% of the positive's
	// 0.995: too close to be a safe negative, the relative margin drops it.

	// Output:
	// query 0, positive 0 (cosine 0.995): 2 (0.774) 1 (0.100)
	// query 1, positive 1 (cosine 0.995): 2 (0.774) 3 (0.409)
	// query 2, positive 2 (cosine 1.000): 3 (0.894) 0 (0.707)
	// [[0 0 2] [0 0 1] [1 1 2] [1 1 3] [2 2 3] [2 2 0]]
}
