package beir

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Tolerance of the hand-computed values: they are exact expressions, so
// only float64 rounding separates them (1e-12).
const tol = 1e-12

var log2 = math.Log2

func TestScoreRanking(t *testing.T) {
	k10 := Cutoffs{10, 10, 10}
	tests := []struct {
		name   string
		ranked []string
		qrels  map[string]int
		c      Cutoffs
		want   Scores
	}{
		// The binary cases the programming example's eval relied on
		// (sentence-transformers' InformationRetrievalEvaluator).
		{"first hit", []string{"a", "b", "c"}, map[string]int{"a": 1}, k10, Scores{1, 1, 1}},
		// a at rank 3: DCG = 1/log2(4), IDCG = 1; MRR 1/3.
		{"third hit", []string{"x", "y", "a"}, map[string]int{"a": 1}, k10, Scores{1 / log2(4), 1.0 / 3, 1}},
		{"miss beyond k", []string{"x", "y", "a"}, map[string]int{"a": 1}, Cutoffs{2, 2, 2}, Scores{}},
		// a at rank 2 of two relevant: DCG = 1/log2(3), IDCG = 1 + 1/log2(3).
		{"two relevant, one found", []string{"x", "a", "y"}, map[string]int{"a": 1, "b": 1}, k10,
			Scores{(1 / log2(3)) / (1 + 1/log2(3)), 0.5, 0.5}},
		{"two relevant, both found", []string{"b", "x", "a"}, map[string]int{"a": 1, "b": 1}, k10,
			Scores{(1 + 1/log2(4)) / (1 + 1/log2(3)), 1, 1}},
		// Graded: b (1) at rank 2, a (2) at rank 3, c graded 0.
		// DCG = 1/log2(3) + 2/log2(4) = 1.63093; IDCG = 2/log2(2) + 1/log2(3) = 2.63093;
		// nDCG = 0.61990. MRR: b at rank 2. Recall: 2 of 2 graded ≥ 1.
		{"graded gain is linear", []string{"x", "b", "a", "c"}, map[string]int{"a": 2, "b": 1, "c": 0}, k10,
			Scores{(1/log2(3) + 2/log2(4)) / (2 + 1/log2(3)), 0.5, 1}},
		// Same ranking cut at nDCG@2, MRR@1, Recall@2: DCG@2 = 1/log2(3),
		// IDCG@2 = 2 + 1/log2(3) (the two best grades), nDCG = 0.23981;
		// nothing relevant at rank 1; b alone of a, b in the top 2.
		{"separate cutoffs", []string{"x", "b", "a"}, map[string]int{"a": 2, "b": 1}, Cutoffs{NDCG: 2, MRR: 1, Recall: 2},
			Scores{(1 / log2(3)) / (2 + 1/log2(3)), 0, 0.5}},
		// Three relevant, one found at rank 1, nDCG@2: IDCG@2 counts only
		// two ideal hits: 1 / (1 + 1/log2(3)) = 0.61315. Recall 1/3.
		{"ideal cut at k", []string{"a"}, map[string]int{"a": 1, "b": 1, "c": 1}, Cutoffs{NDCG: 2, MRR: 10, Recall: 100},
			Scores{1 / (1 + 1/log2(3)), 1, 1.0 / 3}},
		{"a document graded 0 is not relevant", []string{"c", "a"}, map[string]int{"a": 1, "c": 0}, k10,
			Scores{1 / log2(3), 0.5, 1}},
		{"negative grade counts as 0", []string{"c", "a"}, map[string]int{"a": 1, "c": -1}, k10,
			Scores{1 / log2(3), 0.5, 1}},
		{"nothing graded above 0", []string{"a"}, map[string]int{"a": 0}, k10, Scores{}},
		{"no qrels", []string{"a"}, map[string]int{}, k10, Scores{}},
		{"empty ranking", nil, map[string]int{"a": 1}, k10, Scores{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ScoreRanking(tc.ranked, tc.qrels, tc.c)
			assert.InDelta(t, tc.want.NDCG, got.NDCG, tol, "nDCG")
			assert.InDelta(t, tc.want.MRR, got.MRR, tol, "MRR")
			assert.InDelta(t, tc.want.Recall, got.Recall, tol, "Recall")
		})
	}
}

func TestRank(t *testing.T) {
	tests := []struct {
		name string
		hits []Hit
		want []string
	}{
		{"by score", []Hit{{"a", 0.1}, {"b", 0.9}, {"c", 0.5}}, []string{"b", "c", "a"}},
		// trec_eval's comp_sim_docno: equal scores in descending id order.
		{"ties by id, descending", []Hit{{"a", 0.5}, {"c", 0.9}, {"b", 0.5}, {"d10", 0.5}, {"d9", 0.5}},
			[]string{"c", "d9", "d10", "b", "a"}},
		{"none", nil, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Rank(tc.hits))
		})
	}
}

// In TestEvaluate, q1 finds d1 first (1, 1, 1); q2 finds d2 second
// (nDCG 1/log2(3), MRR 1/2, Recall 1); q3 grades nothing above 0 (0, 0,
// 0); q4 retrieves itself first and "x" second: with ignore_identical_ids
// the hit q4 is dropped and q4 scores (0, 0, 0), without it (1, 1, 1);
// q5 is judged but has no results: left out of nDCG and Recall (pytrec_eval
// scores only the queries of the run), in MRR's average as 0 (BEIR divides
// by len(qrels)); q6 has results but no qrels: left out.
func TestEvaluate(t *testing.T) {
	qrels := map[string]map[string]int{
		"q1": {"d1": 1}, "q2": {"d2": 1}, "q3": {"d3": 0}, "q4": {"q4": 1}, "q5": {"d5": 1},
	}
	results := map[string][]Hit{
		"q1": {{"d2", 0.1}, {"d1", 0.9}},
		"q2": {{"d1", 0.9}, {"d2", 0.8}},
		"q3": {{"d3", 0.9}},
		"q4": {{"q4", 1}, {"x", 0.5}},
		"q6": {{"d1", 1}},
	}
	k10 := Cutoffs{10, 10, 10}
	tests := []struct {
		name   string
		ignore bool
		want   Scores
	}{
		// nDCG (1 + 1/log2(3) + 0 + 0)/4 = 0.40773, MRR (1 + 1/2 + 0 + 0 + 0)/5 = 0.3, Recall (1+1+0+0)/4.
		{"ignore identical ids", true, Scores{(1 + 1/log2(3)) / 4, 1.5 / 5, 2.0 / 4}},
		// q4 now finds itself: nDCG (2 + 1/log2(3))/4, MRR 2.5/5, Recall 3/4.
		{"keep identical ids", false, Scores{(2 + 1/log2(3)) / 4, 2.5 / 5, 3.0 / 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(qrels, results, k10, tc.ignore)
			assert.InDelta(t, tc.want.NDCG, got.NDCG, tol, "nDCG")
			assert.InDelta(t, tc.want.MRR, got.MRR, tol, "MRR")
			assert.InDelta(t, tc.want.Recall, got.Recall, tol, "Recall")
		})
	}
	assert.Len(t, results["q4"], 2, "Evaluate changed its argument")
	assert.Equal(t, 101, DefaultCutoffs.RetrieveK())
}
