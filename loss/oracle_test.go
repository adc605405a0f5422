package loss

import "math"

// oracle is a slow, obviously-right float64 MNRL: scores, loss and the
// hand-derived gradients with respect to the anchors and every candidate.
//
// With â = a/max(‖a‖,ε), S = s·Â·Ĉᵀ, P = softmax_rows(S), Y the labels:
//
//	dL/dS = (P − Y)/B,  dL/dÂ = s·dS·Ĉ,  dL/dĈ = s·dSᵀ·Â,
//	dL/da = (dâ − â⟨dâ, â⟩)/‖a‖  (or dâ/ε where ‖a‖ < ε).
type oracle struct {
	scores [][]float64   // [B][N]
	loss   float64       // mean cross-entropy
	dA     [][]float64   // [B][D]
	dC     [][][]float64 // per candidate matrix [B][D]
}

func mnrlOracle(scale float64, sim Similarity, a [][]float64, cands ...[][]float64) oracle {
	b := len(a)
	var c [][]float64 // all candidate rows, positives first
	for _, m := range cands {
		c = append(c, m...)
	}
	prep := func(rows [][]float64) (out [][]float64, norms []float64) {
		for _, r := range rows {
			n := 0.0
			for _, v := range r {
				n += v * v
			}
			n = math.Sqrt(n)
			norms = append(norms, n)
			d := 1.0
			if sim == Cosine {
				d = math.Max(n, normEps)
			}
			q := make([]float64, len(r))
			for j, v := range r {
				q[j] = v / d
			}
			out = append(out, q)
		}
		return out, norms
	}
	ah, an := prep(a)
	ch, cn := prep(c)
	o := oracle{scores: make([][]float64, b)}
	dS := make([][]float64, b)
	for i := range ah {
		o.scores[i] = make([]float64, len(ch))
		for j := range ch {
			o.scores[i][j] = scale * dot(ah[i], ch[j])
		}
		m := math.Inf(-1)
		for _, v := range o.scores[i] {
			m = math.Max(m, v)
		}
		z := 0.0
		for _, v := range o.scores[i] {
			z += math.Exp(v - m)
		}
		lse := m + math.Log(z)
		o.loss += (lse - o.scores[i][i]) / float64(b)
		dS[i] = make([]float64, len(ch))
		for j, v := range o.scores[i] {
			dS[i][j] = math.Exp(v-lse) / float64(b)
		}
		dS[i][i] -= 1 / float64(b)
	}
	back := func(hat [][]float64, norms []float64, g [][]float64) [][]float64 {
		out := make([][]float64, len(g))
		for i := range g {
			out[i] = make([]float64, len(g[i]))
			if sim == Dot {
				copy(out[i], g[i])
				continue
			}
			gy := dot(g[i], hat[i])
			for j := range g[i] {
				if norms[i] >= normEps {
					out[i][j] = (g[i][j] - hat[i][j]*gy) / norms[i]
				} else {
					out[i][j] = g[i][j] / normEps
				}
			}
		}
		return out
	}
	dAh := make([][]float64, b)
	for i := range dAh {
		dAh[i] = make([]float64, len(a[i]))
		for j := range ch {
			for k := range dAh[i] {
				dAh[i][k] += scale * dS[i][j] * ch[j][k]
			}
		}
	}
	dCh := make([][]float64, len(ch))
	for j := range dCh {
		dCh[j] = make([]float64, len(ch[j]))
		for i := range ah {
			for k := range dCh[j] {
				dCh[j][k] += scale * dS[i][j] * ah[i][k]
			}
		}
	}
	o.dA = back(ah, an, dAh)
	dC := back(ch, cn, dCh)
	for m := range cands {
		o.dC = append(o.dC, dC[m*b:(m+1)*b])
	}
	return o
}

func dot(x, y []float64) float64 {
	s := 0.0
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}
