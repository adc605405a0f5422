package beir

import (
	"maps"
	"math"
	"slices"
	"strings"
)

// The metrics are those BEIR's EvaluateRetrieval reports (read in
// beir-cellar/beir's beir/retrieval/evaluation.py, custom_metrics.py and
// search/dense/exact_search.py):
//
//   - nDCG@k and Recall@k come from pytrec_eval (trec_eval 9's ndcg_cut
//     and recall): the run of a query is sorted by score, descending, ties
//     broken by document id in descending byte order (trec_eval's
//     comp_sim_docno compares strcmp(b, a)); DCG@k sums grade/log2(r+1)
//     over the ranks r = 1..k, with the grade from the qrels (linear gain,
//     not 2^grade−1); the ideal DCG@k is that of the judged documents
//     sorted by grade; Recall@k is the number of documents graded ≥ 1 in
//     the top k over the number graded ≥ 1 in the qrels. A query whose
//     qrels grade nothing above 0 scores 0 on both (trec_eval's ideal DCG
//     and relevant count are 0) and still counts in the average, which
//     BEIR takes over every query pytrec_eval scored: the queries of both
//     the qrels and the results.
//   - MRR@k is BEIR's own (custom_metrics.mrr): 1/r for the first document
//     graded > 0 in the top k, averaged over every query of the qrels. BEIR
//     sorts the results by score with Python's stable sort, so its ties
//     follow the order the retriever filled the results dict in (for exact
//     search, a heap's internal order: no defined order); Evaluate breaks
//     them as trec_eval does, so that all three metrics read one ranking.
//   - ignore_identical_ids (BEIR's default, True): a retrieved document
//     whose id equals the query's id is dropped before scoring. BEIR's
//     exact search retrieves top_k+1 documents, skips that one and keeps
//     top_k; a caller of Evaluate retrieves one more than it scores, as
//     RetrieveK says.
//
// Grades below 0 count as 0 (BEIR's datasets have none). BEIR rounds each
// average to 5 decimals; Evaluate does not round.

// Hit is one retrieved document of a query and its score.
type Hit struct {
	ID    string
	Score float64
}

// Cutoffs are the ranks each metric looks at.
type Cutoffs struct {
	NDCG, MRR, Recall int
}

// DefaultCutoffs are the figures BEIR results are reported in: nDCG@10,
// MRR@10 and Recall@100.
var DefaultCutoffs = Cutoffs{NDCG: 10, MRR: 10, Recall: 100}

// RetrieveK is how many hits to retrieve per query for cutoffs c: the
// deepest cutoff, plus one for the hit ignore_identical_ids may drop
// (BEIR's exact search retrieves top_k+1 likewise).
func (c Cutoffs) RetrieveK() int { return max(c.NDCG, c.MRR, c.Recall) + 1 }

// Scores are nDCG, MRR and Recall at their cutoffs, of one query or
// averaged over queries.
type Scores struct {
	NDCG, MRR, Recall float64
}

// Rank returns the ids of hits in trec_eval's order: score descending,
// ties broken by id in descending byte order. hits is left as it is.
func Rank(hits []Hit) []string {
	sorted := slices.Clone(hits)
	slices.SortStableFunc(sorted, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := make([]string, len(sorted))
	for i, h := range sorted {
		ids[i] = h.ID
	}
	return ids
}

// ScoreRanking rates one query's ranking (document ids, best first)
// against its qrels (document id → grade) as the package comment says.
// With every grade 1 it is also what sentence-transformers'
// InformationRetrievalEvaluator computes: its binary nDCG normalises by
// min(|relevant|, k) ideal hits, which is the same ideal DCG.
func ScoreRanking(ranked []string, qrels map[string]int, c Cutoffs) Scores {
	var s Scores
	relevant := 0
	grades := make([]int, 0, len(qrels))
	for _, g := range qrels {
		if g > 0 {
			relevant++
			grades = append(grades, g)
		}
	}
	if relevant == 0 {
		return s
	}
	slices.Sort(grades)
	slices.Reverse(grades)
	dcg, idcg, found := 0.0, 0.0, 0
	for r, id := range ranked {
		g := qrels[id]
		if g <= 0 {
			continue
		}
		if r < c.NDCG {
			dcg += float64(g) / math.Log2(float64(r+2))
		}
		if r < c.MRR && s.MRR == 0 {
			s.MRR = 1 / float64(r+1)
		}
		if r < c.Recall {
			found++
		}
	}
	for r, g := range grades[:min(len(grades), c.NDCG)] {
		idcg += float64(g) / math.Log2(float64(r+2))
	}
	s.NDCG = dcg / idcg
	s.Recall = float64(found) / float64(relevant)
	return s
}

// Evaluate averages the scores of results (query id → its hits, in any
// order) against qrels (query id → document id → grade) as BEIR's
// EvaluateRetrieval.evaluate and evaluate_custom("mrr") do: each query's
// hits ranked by Rank, with a hit whose id is the query's own dropped when
// ignoreIdentical is set; nDCG and Recall averaged over the queries of
// qrels that results holds, MRR over every query of qrels. A query of
// results that qrels does not judge is left out.
func Evaluate(qrels map[string]map[string]int, results map[string][]Hit, c Cutoffs, ignoreIdentical bool) Scores {
	var sum Scores
	scored := 0
	// In a fixed order, so that the sums do not vary in their last bits.
	for _, qid := range slices.Sorted(maps.Keys(qrels)) {
		rel := qrels[qid]
		hits, ok := results[qid]
		if !ok {
			continue
		}
		if ignoreIdentical {
			hits = slices.DeleteFunc(slices.Clone(hits), func(h Hit) bool { return h.ID == qid })
		}
		s := ScoreRanking(Rank(hits), rel, c)
		sum.NDCG += s.NDCG
		sum.Recall += s.Recall
		sum.MRR += s.MRR
		scored++
	}
	var avg Scores
	if scored > 0 {
		avg.NDCG = sum.NDCG / float64(scored)
		avg.Recall = sum.Recall / float64(scored)
	}
	if len(qrels) > 0 {
		avg.MRR = sum.MRR / float64(len(qrels))
	}
	return avg
}
