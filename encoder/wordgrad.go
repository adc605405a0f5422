package encoder

// wordGrad is the dense [V, D] gradient of the word-embedding table, built
// from the gradients of the rows a step looked up: each step zeroes only the
// rows the previous one touched and adds the new rows in, instead of
// zeroing and summing whole [V, D] tensors per tower. The optimizer still
// sees (and AdamW still updates) the dense gradient, as in PyTorch.
type wordGrad struct {
	data    []float32 // [V, D]
	d       int
	touched []int // ids added since the last reset, possibly repeated
}

func newWordGrad(v, d int) *wordGrad {
	return &wordGrad{data: make([]float32, v*d), d: d}
}

// reset zeroes the rows added since the last reset.
func (w *wordGrad) reset() {
	for _, id := range w.touched {
		clear(w.data[id*w.d : (id+1)*w.d])
	}
	w.touched = w.touched[:0]
}

// add adds the gradient rows g [len(ids), D] into the rows named by ids
// (repeated ids add up, in order).
func (w *wordGrad) add(ids []int, g []float32) {
	d := w.d
	for i, id := range ids {
		dst, src := w.data[id*d:(id+1)*d], g[i*d:(i+1)*d]
		for j, v := range src {
			dst[j] += v
		}
	}
	w.touched = append(w.touched, ids...)
}
