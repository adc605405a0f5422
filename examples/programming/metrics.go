package main

import "math"

// metrics are the information-retrieval scores of one ranking, as
// sentence-transformers' InformationRetrievalEvaluator computes them with
// binary relevance.
type metrics struct {
	MRR, NDCG, Recall float64
}

// score rates a ranked list of passage ids against the set of relevant ids,
// looking at the first k results: MRR@k (reciprocal rank of the first relevant
// hit), nDCG@k (gain 1/log2(rank+1), normalised by the ideal ranking of
// min(|relevant|, k) hits) and Recall@k.
func score(ranked []string, relevant map[string]bool, k int) metrics {
	var m metrics
	if len(relevant) == 0 {
		return m
	}
	if len(ranked) > k {
		ranked = ranked[:k]
	}
	hits := 0
	dcg := 0.0
	for i, id := range ranked {
		if !relevant[id] {
			continue
		}
		if hits == 0 {
			m.MRR = 1 / float64(i+1)
		}
		hits++
		dcg += 1 / math.Log2(float64(i+2))
	}
	idcg := 0.0
	for i := 0; i < min(len(relevant), k); i++ {
		idcg += 1 / math.Log2(float64(i+2))
	}
	m.NDCG = dcg / idcg
	m.Recall = float64(hits) / float64(len(relevant))
	return m
}
