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
