package loss_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/loss"
)

// Two queries and their passages: the loss is small because each query is
// closest to its own passage, and its gradient pulls the pairs closer still.
func ExampleMNRL_Loss() {
	g := gorgonia.NewGraph()
	matrix := func(name string, v ...float64) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(v))))
	}
	queries := matrix("queries", 1, 0, 0, 0, 1, 0)
	passages := matrix("passages", 0.6, 0.5, 0, 0.3, 0.7, 0.1)

	mnrl := loss.NewMNRL() // scale 20, cosine similarity
	l, err := mnrl.Loss(queries, passages)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := gorgonia.Grad(l, queries, passages); err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(queries, passages))
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	grad, _ := passages.Grad()
	fmt.Printf("loss %.4f\n", l.Value().Data())
	fmt.Printf("d loss / d passages[0] %.4f\n", grad.Data().([]float64)[:3])
	// Output:
	// loss 0.0025
	// d loss / d passages[0] [-0.0304 0.0365 0.0000]
}

// A batch of two (anchor, positive, hard negative) triplets through the Loss
// interface: each anchor is scored against the 4 candidates of the batch —
// both positives, then both hard negatives — as sentence-transformers does.
// Row 0 scores (1, 0.1, 1, 0.5) against label 0: log(e¹+e^0.1+e¹+e^0.5) − 1
// = 1.1030, and row 1 is its mirror image.
func ExampleMNRL_Compute() {
	g := gorgonia.NewGraph()
	column := func(name string, v ...float64) *gorgonia.Node {
		// Named: gorgonia would merge unnamed inputs of one shape into one node.
		return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 2), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(v))))
	}
	embeddings := []*gorgonia.Node{
		column("anchors", 1, 0, 0, 1),
		column("positives", 1, 0.1, 0.1, 1),
		column("negatives", 1, 0.5, 0.5, 1),
	}
	var l loss.Loss = loss.MNRL{Scale: 1, Similarity: loss.Dot}
	cost, err := l.Compute(embeddings, nil)
	if err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loss %.4f\n", cost.Value().Data())
	// Output:
	// loss 1.1030
}

// One (query, positive, negative) triple with the teacher's margin 2: the
// student scores q·p = 1 and q·n = 0.5, a margin of 0.5, so the loss is
// (0.5 − 2)² = 2.25 and its gradient pushes q·p up and q·n down.
func ExampleMarginMSE() {
	g := gorgonia.NewGraph()
	row := func(name string, v ...float64) *gorgonia.Node {
		return gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(1, 2), gorgonia.WithName(name),
			gorgonia.WithValue(tensor.New(tensor.WithShape(1, 2), tensor.WithBacking(v))))
	}
	q, p, n := row("query", 1, 1), row("positive", 1, 0), row("negative", 0.5, 0)
	labels := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(1), gorgonia.WithName("margins"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{2}))))
	cost, err := loss.NewMarginMSE().Compute([]*gorgonia.Node{q, p, n}, labels)
	if err != nil {
		log.Fatal(err)
	}
	grads, err := gorgonia.Grad(cost, p, n)
	if err != nil {
		log.Fatal(err)
	}
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loss %.2f\n", cost.Value().Data())
	fmt.Printf("d loss / d positive %.1f, d loss / d negative %.1f\n", grads[0].Value().Data(), grads[1].Value().Data())
	// Output:
	// loss 2.25
	// d loss / d positive [-3.0 -3.0], d loss / d negative [3.0 3.0]
}

// EmbeddingGradients is the middle step of gradient caching: the loss of a
// whole batch of embeddings, computed in mini-batches elsewhere, and its
// gradient with respect to them, which the trainer then back-propagates
// through each mini-batch. For CachedMNRL it is MNRL's.
func ExampleEmbeddingGradients() {
	column := func(v ...float32) *tensor.Dense {
		return tensor.New(tensor.WithShape(2, 2), tensor.WithBacking(v))
	}
	queries, passages := column(1, 0, 0, 1), column(0.9, 0.1, 0.2, 0.8)
	l := loss.NewCachedMNRL(32)
	value, grads, err := loss.EmbeddingGradients(l, []*tensor.Dense{queries, passages}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("loss %.4f, %d gradients of shape %v\n", value, len(grads), grads[0].Shape())
	// Output:
	// loss 0.0000, 2 gradients of shape (2, 2)
}
