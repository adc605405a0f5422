package optim

import "strings"

// noDecayPatterns is sentence-transformers' fit list: a parameter whose name
// contains any of them gets no weight decay.
var noDecayPatterns = []string{"bias", "LayerNorm.bias", "LayerNorm.weight"}

// NoDecay reports whether sentence-transformers' fit exempts the named
// parameter from weight decay: its name contains "bias", "LayerNorm.bias" or
// "LayerNorm.weight". The match is by substring on the name, so DistilBERT's
// "sa_layer_norm.weight" and "output_layer_norm.weight" DO get decay (they
// lack "LayerNorm"), while every bias and BERT's LayerNorm weights do not.
func NoDecay(name string) bool {
	for _, p := range noDecayPatterns {
		if strings.Contains(name, p) {
			return true
		}
	}
	return false
}

// SplitDecay groups the parameters as sentence-transformers' fit does: first
// those that get weightDecay, then those NoDecay exempts (weight decay 0),
// each in the given order. An empty group is kept, as fit keeps it.
func SplitDecay(params []*Param, weightDecay float64) []Group {
	decay := Group{WeightDecay: weightDecay}
	none := Group{WeightDecay: 0}
	for _, p := range params {
		if NoDecay(p.Name) {
			none.Params = append(none.Params, p)
		} else {
			decay.Params = append(decay.Params, p)
		}
	}
	return []Group{decay, none}
}
