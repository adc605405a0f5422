package optim

import (
	"fmt"
	"math/rand/v2"
)

// distilbertBase returns the parameter shapes of distilbert-base-uncased
// (66,362,880 values): embeddings, then six transformer layers.
func distilbertBase() map[string]int {
	const d, ffn, layers = 768, 3072, 6
	sizes := map[string]int{
		"embeddings.word_embeddings.weight":     30522 * d,
		"embeddings.position_embeddings.weight": 512 * d,
		"embeddings.LayerNorm.weight":           d,
		"embeddings.LayerNorm.bias":             d,
	}
	for l := range layers {
		pre := fmt.Sprintf("transformer.layer.%d.", l)
		for _, lin := range []string{"q_lin", "k_lin", "v_lin", "out_lin"} {
			sizes[pre+"attention."+lin+".weight"] = d * d
			sizes[pre+"attention."+lin+".bias"] = d
		}
		for _, ln := range []string{"sa_layer_norm", "output_layer_norm"} {
			sizes[pre+ln+".weight"] = d
			sizes[pre+ln+".bias"] = d
		}
		sizes[pre+"ffn.lin1.weight"] = ffn * d
		sizes[pre+"ffn.lin1.bias"] = ffn
		sizes[pre+"ffn.lin2.weight"] = d * ffn
		sizes[pre+"ffn.lin2.bias"] = d
	}
	return sizes
}

// randomParams returns parameters of the given names and sizes (in sorted
// name order) with random values and gradients.
func randomParams(seed uint64, names []string, sizes map[string]int) []*Param {
	rng := rand.New(rand.NewPCG(seed, 11))
	ps := make([]*Param, len(names))
	for i, name := range names {
		p := &Param{Name: name, Data: make([]float32, sizes[name]), Grad: make([]float32, sizes[name])}
		for j := range p.Data {
			p.Data[j] = float32(rng.NormFloat64() * 0.05)
			p.Grad[j] = float32(rng.NormFloat64() * 1e-3)
		}
		ps[i] = p
	}
	return ps
}
