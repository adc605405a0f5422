package optim_test

import (
	"fmt"
	"log"

	"github.com/genq-go/genq/encoder/optim"
)

// The learning-rate factor of a 10-step run with 2 warm-up steps.
func ExampleWarmupLinear() {
	for step := 0; step <= 10; step += 2 {
		fmt.Printf("%d:%.3f ", step, optim.WarmupLinear(step, 2, 10))
	}
	fmt.Println()
	// Output:
	// 0:0.000 2:1.000 4:0.750 6:0.500 8:0.250 10:0.000
}

// One sentence-transformers step: clip, schedule, AdamW with fit's groups.
func ExampleAdamW() {
	params := []*optim.Param{
		{Name: "dense.weight", Data: []float32{1, -1}, Grad: []float32{3, 4}},
		{Name: "dense.bias", Data: []float32{0.5}, Grad: []float32{0}},
		{Name: "pooler.weight", Data: []float32{2}}, // no gradient: untouched
	}
	grads := [][]float32{params[0].Grad, params[1].Grad, params[2].Grad}
	fmt.Printf("norm before clipping %.1f\n", optim.ClipGradNorm(grads, 1))

	opt, err := optim.NewAdamW(optim.Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		optim.SplitDecay(params, 0.01)...)
	if err != nil {
		log.Fatal(err)
	}
	if err := opt.Step(0.1 * optim.WarmupLinear(0, 0, 100)); err != nil {
		log.Fatal(err)
	}
	for _, p := range params {
		fmt.Printf("%s %.4f\n", p.Name, p.Data)
	}
	// Output:
	// norm before clipping 5.0
	// dense.weight [0.8990 -1.0990]
	// dense.bias [0.5000]
	// pooler.weight [2.0000]
}
