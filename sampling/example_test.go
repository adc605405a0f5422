package sampling_test

import (
	"fmt"

	"github.com/genq-go/genq/sampling"
)

// GenQ's generate(do_sample=True, top_p=0.95): Hugging Face's default top_k=50
// applies too.
func Example() {
	cfg := sampling.GenerateDefaults()
	cfg.TopP = 0.95
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	logits := []float32{2.0, 4.0, 1.0, 3.5, -2.0, 0.5}
	cfg.Warp(logits)
	fmt.Println("warped:", logits)

	s := sampling.NewSampler(42)
	var draws []int
	for i := 0; i < 10; i++ {
		draws = append(draws, s.Sample(logits))
	}
	fmt.Println("draws:", draws)
	fmt.Println("greedy:", sampling.Argmax(logits))
	// Output:
	// warped: [2 4 -Inf 3.5 -Inf -Inf]
	// draws: [3 3 1 1 1 3 3 1 1 3]
	// greedy: 1
}
