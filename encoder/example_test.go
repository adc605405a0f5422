package encoder_test

import (
	"context"
	"fmt"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/loss"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinyModel is the tiny random-weight DistilBERT bi-encoder of the
// repository's fixtures; use a model id such as
// "sentence-transformers/msmarco-distilbert-base-v3" or a folder of your own.
const tinyModel = "../testdata/fixtures/distilbert-tiny"

// Encode two texts and compare them by cosine similarity.
func Example() {
	m, err := encoder.Load(context.Background(), tinyModel, encoder.LoadOptions{})
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

// Build the encoder into your own gorgonia graph: a query and a passage
// tower on shared weights, any loss on their sentence embeddings (here the
// loss package's MNRL), gradients of every weight by gorgonia.Grad.
func ExampleModel_Graph() {
	m, err := encoder.Load(context.Background(), tinyModel, encoder.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	queries := []string{"What is Python?", "Who wrote Hamlet?"}
	passages := []string{"Python is a programming language.", "Hamlet is a tragedy by Shakespeare."}

	g := G.NewGraph()
	enc, err := m.Graph(g)
	if err != nil {
		fmt.Println(err)
		return
	}
	q, err := enc.Forward(len(queries), 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := enc.Forward(len(passages), 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	cost, err := loss.NewMNRL().Loss(q.Embedding, p.Embedding)
	if err != nil {
		fmt.Println(err)
		return
	}
	var weights G.Nodes
	for _, p := range enc.Params() {
		weights = append(weights, p.Node)
	}
	grads, err := G.Grad(cost, weights...)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := q.BindTexts(queries); err != nil {
		fmt.Println(err)
		return
	}
	if err := p.BindTexts(passages); err != nil {
		fmt.Println(err)
		return
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	first := enc.Params()[0]
	fmt.Printf("loss %.2f; %d weights, the first %s %v with gradient %v\n",
		cost.Value().Data(), len(weights), first.Name, first.Node.Shape(), grads[0].Shape())
	// Output: loss 0.47; 36 weights, the first embeddings.word_embeddings.weight (30522, 16) with gradient (30522, 16)
}

// Mean-pool token embeddings under an attention mask.
func ExamplePool() {
	g := G.NewGraph()
	tokens := G.NewMatrix(g, tensor.Float32, G.WithName("tokens"), G.WithValue(
		tensor.New(tensor.WithShape(4, 2), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6, 100, 100}))))
	mask := G.NewMatrix(g, tensor.Float32, G.WithName("mask"), G.WithValue(
		tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 1, 1, 0}))))
	pooled, err := encoder.Pool(tokens, mask, encoder.PoolMean)
	fmt.Println(evaluate(g, pooled, err))
	// Output: [2 3 5 6]
}

// Layer-normalize two rows with BERT's eps.
func ExampleLayerNorm() {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithName("x"), G.WithValue(
		tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 10, 10, 40}))))
	w := G.NewVector(g, tensor.Float32, G.WithName("w"), G.WithValue(tensor.New(tensor.WithBacking([]float32{1, 1, 2}))))
	b := G.NewVector(g, tensor.Float32, G.WithName("b"), G.WithValue(tensor.New(tensor.WithBacking([]float32{0, 0, 1}))))
	y, err := encoder.LayerNorm(x, w, b, 1e-12)
	fmt.Printf("%.3f\n", evaluate(g, y, err))
	// Output: [-1.225 0.000 3.449 -0.707 -0.707 3.828]
}

// evaluate runs g and returns n's values, or the error.
func evaluate(g *G.ExprGraph, n *G.Node, err error) any {
	if err != nil {
		return err
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return err
	}
	return n.Value().Data()
}

// The exact GELU of BERT and DistilBERT beside its tanh approximation.
func ExampleGELU() {
	g := G.NewGraph()
	x := G.NewVector(g, tensor.Float64, G.WithName("x"), G.WithValue(tensor.New(tensor.WithBacking([]float64{-3, -1, 0, 1, 3}))))
	exact, err := encoder.GELU(x)
	fmt.Printf("gelu     %.6f\n", evaluate(g, exact, err))
	approx, err := encoder.GELUNew(x)
	fmt.Printf("gelu_new %.6f\n", evaluate(g, approx, err))
	// Output:
	// gelu     [-0.004050 -0.158655 0.000000 0.841345 2.995950]
	// gelu_new [-0.003637 -0.158808 0.000000 0.841192 2.996363]
}
