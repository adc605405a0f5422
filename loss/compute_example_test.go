package loss_test

import (
	"fmt"
	"log"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/genq-go/genq/loss"
)

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
