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

// T5LayerNorm is an RMS norm: each row is divided by the root of its mean
// square, then scaled; nothing is subtracted and there is no bias.
func ExampleLayerNorm() {
	norm := &t5.LayerNorm{Weight: &t5.Tensor{Shape: []int{2}, Data: []float32{1, 2}}, Eps: 1e-6}
	y, err := norm.Forward(&t5.Tensor{Shape: []int{1, 2}, Data: []float32{3, 4}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.4f\n", y.Data)
	// Output:
	// [0.8485 2.2627]
}

// T5's feed-forward module, in its v1.0 form (ReLU) and its v1.1 form (gated
// gelu_new). Weights are in PyTorch's (out, in) layout.
func ExampleFeedForward() {
	eye := &t5.Tensor{Shape: []int{2, 2}, Data: []float32{1, 0, 0, 1}}
	x := &t5.Tensor{Shape: []int{1, 2}, Data: []float32{1, -2}}

	relu := &t5.FeedForward{Wi: eye, Wo: eye}
	y, err := relu.Forward(x)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("relu:  %.4f\n", y.Data)

	double := &t5.Tensor{Shape: []int{2, 2}, Data: []float32{2, 0, 0, 2}}
	gated := &t5.FeedForward{Wi0: eye, Wi1: double, Wo: eye}
	if y, err = gated.Forward(x); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gated: %.4f\n", y.Data)
	// Output:
	// relu:  [1.0000 0.0000]
	// gated: [1.6824 0.1816]
}

// T5Attention with a relative-position bias: here head 0 sees each key
// position's bucket bias, head 1 none. Scores are not scaled by 1/√d_kv.
func ExampleAttention() {
	eye := &t5.Tensor{Shape: []int{2, 2}, Data: []float32{1, 0, 0, 1}}
	table := &t5.Tensor{Shape: []int{32, 2}, Data: make([]float32, 64)}
	table.Data[0*2+0] = 3 // bucket 0 (a key at the query's own position), head 0
	attn := &t5.Attention{
		Q: eye, K: eye, V: eye, O: eye, // 2 heads of d_kv 1 on d_model 2
		RelativeAttentionBias: table,
		NumHeads:              2,
		NumBuckets:            32,
		MaxDistance:           128,
	}
	x := &t5.Tensor{Shape: []int{1, 3, 2}, Data: []float32{1, 0, 0, 1, 2, 2}}
	bias, err := attn.PositionBias(3, 3)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("head 0 bias:", bias.Data[:9])
	y, err := attn.Forward(x, nil, nil) // self-attention with the position bias
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		fmt.Printf("position %d: %.4f\n", i, y.Data[2*i:2*i+2])
	}
	// Output:
	// head 0 bias: [3 0 0 0 3 0 0 0 3]
	// position 0: [1.1014 1.0000]
	// position 1: [0.1358 1.5752]
	// position 2: [1.9915 1.8509]
}

// The relative-position buckets of T5: bidirectional in the encoder, causal
// (future keys share bucket 0) in the decoder's self-attention.
func ExampleRelativePositionBucket() {
	for _, rel := range []int{-200, -20, -1, 0, 1, 20, 200} {
		fmt.Println(rel, t5.RelativePositionBucket(rel, true, 32, 128), t5.RelativePositionBucket(rel, false, 32, 128))
	}
	// Output:
	// -200 15 31
	// -20 10 17
	// -1 1 1
	// 0 0 0
	// 1 17 0
	// 20 26 0
	// 200 31 0
}
