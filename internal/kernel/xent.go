package kernel

import (
	"fmt"
	"math"
)

// IgnoreIndex is the label CrossEntropy skips, as torch's ignore_index
// default.
const IgnoreIndex = -100

// CrossEntropy returns torch's CrossEntropyLoss(reduction="mean") of logits
// (rows of width v) against labels, one per row: the mean over the rows
// whose label is not IgnoreIndex of −log_softmax(row)[label], in float64;
// NaN when every label is ignored, as in PyTorch. A label outside [0, v)
// other than IgnoreIndex is an error.
func CrossEntropy[T Float](logits []T, labels []int, v int) (float64, error) {
	var sum float64
	n := 0
	for i, l := range labels {
		if l == IgnoreIndex {
			continue
		}
		if l < 0 || l >= v {
			return 0, fmt.Errorf("label %d is outside the vocabulary [0, %d) (use %d to ignore a position)", l, v, IgnoreIndex)
		}
		row := logits[i*v : (i+1)*v]
		sum += LogSumExp(row) - float64(row[l])
		n++
	}
	if n == 0 {
		return math.NaN(), nil
	}
	return sum / float64(n), nil
}

// CrossEntropyBackward sets dlogits to the gradient of CrossEntropy times
// dloss: dloss·(softmax(row) − onehot(label))/count on the rows that count,
// 0 on ignored rows. Labels must be valid (CrossEntropy checked them).
func CrossEntropyBackward[T Float](dlogits, logits []T, labels []int, v int, dloss float64) {
	n := 0
	for _, l := range labels {
		if l != IgnoreIndex {
			n++
		}
	}
	scale := dloss / float64(n)
	eachRow(len(labels), v, func(i int) {
		l, row := labels[i], dlogits[i*v:(i+1)*v]
		if l == IgnoreIndex {
			clear(row)
			return
		}
		copy(row, logits[i*v:(i+1)*v])
		SoftmaxRow(row, nil)
		row[l] -= 1
		for j, p := range row {
			row[j] = T(float64(p) * scale)
		}
	})
}
