package nn

import "github.com/genq-go/genq/internal/kernel"

// MaskedValue is what AdditiveMask puts where the attention mask is 0:
// the most negative float32, as Hugging Face uses (torch.finfo(float32).min).
const MaskedValue = kernel.MaskedValue

// AdditiveMask turns a 0/1 attention mask (1 = real token, 0 = padding) into
// the additive mask Attention adds to the scores: 0 where mask is nonzero,
// MaskedValue where it is 0. It returns the rows flattened, row after row.
func AdditiveMask(mask [][]int) []float32 {
	var out []float32
	for _, row := range mask {
		for _, m := range row {
			if m != 0 {
				out = append(out, 0)
			} else {
				out = append(out, MaskedValue)
			}
		}
	}
	return out
}
