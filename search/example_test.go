package search_test

import (
	"fmt"

	"github.com/genq-go/genq/search"
)

func ExampleTopK() {
	corpus := [][]float32{
		{1, 0, 0},  // 0
		{0, 1, 0},  // 1
		{1, 1, 0},  // 2
		{-1, 0, 0}, // 3
	}
	queries := [][]float32{{2, 0.1, 0}, {0, 3, 3}}
	hits, err := search.TopK(queries, corpus, 2)
	if err != nil {
		fmt.Println(err)
		return
	}
	for q, hs := range hits {
		for _, h := range hs {
			fmt.Printf("query %d: corpus %d cosine %.4f\n", q, h.CorpusID, h.Score)
		}
	}
	// Output:
	// query 0: corpus 0 cosine 0.9988
	// query 0: corpus 2 cosine 0.7415
	// query 1: corpus 1 cosine 0.7071
	// query 1: corpus 2 cosine 0.5000
}

func ExampleCorpus() {
	c, err := search.NewCorpus([][]float32{{3, 4}, {4, 3}, {0, 5}}, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	hits, _ := c.Search([][]float32{{0, 1}}, 5)
	fmt.Println(c.Score(), hits[0])
	// Output:
	// cosine [{2 1} {0 0.8} {1 0.6}]
}
