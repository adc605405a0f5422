package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/genq-go/genq/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Fixture tolerance: the reference's scores come from torch.mm (another
// summation order), so they agree to float32 rounding.
const (
	fixtureAtol = 1e-6
	fixtureRtol = 1e-5
)

// rows splits a golden [n, d] tensor into rows.
func rows(t *testing.T, g *testutil.Golden, name string) [][]float32 {
	x := g.T(t, name)
	require.Lenf(t, x.Shape, 2, "%s has shape %v, want a matrix", name, x.Shape)
	out := make([][]float32, x.Shape[0])
	for i := range out {
		out[i] = x.F32[i*x.Shape[1] : (i+1)*x.Shape[1]]
	}
	return out
}

// TestMatchesSentenceTransformers searches the golden passage embeddings with
// the golden query embeddings and checks every hit against util.cos_sim /
// util.dot_score of the reference: scores within the tolerance, order as the
// reference's scores sort (best first).
func TestMatchesSentenceTransformers(t *testing.T) {
	for _, model := range []string{"bert-tiny", "distilbert-tiny"} {
		g := testutil.LoadGolden(t, model)
		queries := rows(t, g, "query.sentence_embedding")
		passages := rows(t, g, "passage.sentence_embedding")
		for _, tc := range []struct {
			score  Score
			tensor string
		}{{Cosine, "cos_sim"}, {Dot, "dot_score"}} {
			want := g.T(t, tc.tensor)
			np := len(passages)
			for _, k := range []int{1, 3, np, np + 4} {
				t.Run(fmt.Sprintf("%s/%s/k=%d", model, tc.score, k), func(t *testing.T) {
					hits, err := TopK(queries, passages, k, WithScore(tc.score))
					require.NoError(t, err)
					var maxDiff float64
					for qi, hs := range hits {
						ref := want.F32[qi*np : (qi+1)*np]
						order := make([]int, np)
						for i := range order {
							order[i] = i
						}
						slices.SortStableFunc(order, func(a, b int) int { return -cmpF(ref[a], ref[b]) })
						require.Lenf(t, hs, min(k, np), "query %d", qi)
						got := make([]float32, len(hs))
						wantScores := make([]float32, len(hs))
						for r, h := range hs {
							assert.Equalf(t, order[r], h.CorpusID, "query %d rank %d: passage (scores %v vs %v)",
								qi, r, ref[h.CorpusID], ref[order[r]])
							got[r], wantScores[r] = h.Score, ref[h.CorpusID]
						}
						d := testutil.Compare(got, wantScores, fixtureAtol, fixtureRtol)
						assert.Zerof(t, d.Count, "query %d: scores %v, reference %v", qi, got, wantScores)
						maxDiff = max(maxDiff, d.MaxAbs)
					}
					t.Logf("max |Δ| of scores vs %s: %.3g (atol %g, rtol %g)", tc.tensor, maxDiff, fixtureAtol, fixtureRtol)
				})
			}
		}
	}
}

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// oracle is the obviously right search: every score in float64, a full sort
// by (score desc, id asc), the first k.
func oracle(queries, corpus [][]float32, k int, score Score) [][]Hit {
	norm := func(v []float32) []float64 {
		out := make([]float64, len(v))
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		d := 1.0
		if score == Cosine {
			d = max(math.Sqrt(ss), normEps)
		}
		for i, x := range v {
			out[i] = float64(x) / d
		}
		return out
	}
	res := make([][]Hit, len(queries))
	for qi, q := range queries {
		qn := norm(q)
		all := make([]Hit, len(corpus))
		for ci, c := range corpus {
			cn := norm(c)
			var s float64
			for j := range qn {
				s += qn[j] * cn[j]
			}
			all[ci] = Hit{ci, float32(s)}
		}
		sortHits(all)
		res[qi] = all[:min(k, len(all))]
	}
	return res
}

// TestAgainstOracleRandom compares with the oracle on random data, for
// several worker counts and chunk sizes, dimensions that are and are not
// multiples of the kernel widths, k above the corpus size, and batches on
// both scoring paths (fewer than gemmMinQueries queries, and more). Scores
// are float32 sums, so they match to 1e-5·(1+|score|); at a rank where two
// oracle scores are closer than that, either order is accepted.
func TestAgainstOracleRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 0))
	for _, tc := range []struct {
		nq, nc, dim, k int
	}{
		{1, 1, 1, 1}, {3, 50, 7, 5}, {9, 300, 64, 10}, {5, 257, 33, 300}, {17, 1000, 100, 20},
		{gemmMinQueries, 1, 5, 3}, {gemmMinQueries + 7, 301, 33, 10}, {300, 150, 19, 160},
	} {
		queries, corpus := randomRows(r, tc.nq, tc.dim), randomRows(r, tc.nc, tc.dim)
		for _, score := range []Score{Cosine, Dot} {
			want := oracle(queries, corpus, tc.k, score)
			for _, opt := range [][]Option{nil, {WithWorkers(1)}, {WithWorkers(3), WithChunkSize(7)}, {WithChunkSize(1)}} {
				name := fmt.Sprintf("%dx%dx%d/k=%d/%v/%d-opts", tc.nq, tc.nc, tc.dim, tc.k, score, len(opt))
				got, err := TopK(queries, corpus, tc.k, append(opt, WithScore(score))...)
				require.NoError(t, err, name)
				checkHits(t, name, got, want, 1e-5)
			}
		}
	}
}

func checkHits(t *testing.T, name string, got, want [][]Hit, tol float64) {
	t.Helper()
	require.Lenf(t, got, len(want), "%s: result lists", name)
	for qi := range want {
		require.Lenf(t, got[qi], len(want[qi]), "%s: query %d hits", name, qi)
		for r, w := range want[qi] {
			g := got[qi][r]
			require.InDeltaf(t, w.Score, g.Score, tol*(1+math.Abs(float64(w.Score))), "%s: query %d rank %d: score", name, qi, r)
			require.Truef(t, g.CorpusID == w.CorpusID || nearTie(want[qi], r, g.CorpusID, tol),
				"%s: query %d rank %d: corpus id %d, oracle %d (%v)", name, qi, r, g.CorpusID, w.CorpusID, w.Score)
		}
	}
}

// nearTie reports whether id sits, in the oracle's list, within
// tol·(1+|score|) of rank r's score (or just past the list's end), i.e.
// rounding may swap them.
func nearTie(list []Hit, r, id int, tol float64) bool {
	s := list[len(list)-1].Score
	for _, h := range list {
		if h.CorpusID == id {
			s = h.Score
		}
	}
	ref := float64(list[r].Score)
	return math.Abs(float64(s)-ref) <= tol*(1+math.Abs(ref))
}

// TestTiesExact uses small-integer vectors, whose dot products float32
// computes exactly, with many duplicate rows: ids and scores must equal the
// oracle's exactly (lower corpus id first among equal scores, lower ids kept
// at the k-th place), however the work is split.
func TestTiesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 0))
	intRows := func(n, dim int) [][]float32 {
		out := make([][]float32, n)
		for i := range out {
			out[i] = make([]float32, dim)
			for j := range out[i] {
				out[i][j] = float32(r.IntN(3) - 1)
			}
		}
		return out
	}
	for _, dim := range []int{4, 8, 19} {
		queries, corpus := intRows(6, dim), intRows(500, dim)
		for i := 0; i < 100; i++ {
			corpus[r.IntN(500)] = corpus[r.IntN(500)] // duplicates
		}
		for _, k := range []int{1, 10, 499, 500, 600} {
			want := oracle(queries, corpus, k, Dot)
			for _, opt := range [][]Option{nil, {WithWorkers(1)}, {WithWorkers(4), WithChunkSize(13)}} {
				got, err := TopK(queries, corpus, k, append(opt, WithScore(Dot))...)
				require.NoError(t, err)
				checkHits(t, fmt.Sprintf("dim %d k %d", dim, k), got, want, 0)
			}
		}
	}
}

// TestScoresIndependentOfSplit checks that a score does not depend on how the
// work is split. On each scoring path (a batch below gemmMinQueries, and one
// above) scores are bit-identical whatever the worker count and chunk size,
// and whatever the other queries of a batch on the same path: every score is
// summed in one fixed order (scoreTile's lanes, gemm's depth blocks). The
// two paths sum in different orders, so one query alone (small-batch path)
// and the same query in a large batch (gemm path) agree to float32 rounding,
// 1e-5·(1+|score|), not bit for bit; likewise TopK, which scales the raw
// scores of unnormalized rows by their reciprocal norms, and Corpus.Search,
// which scores rows normalized once.
func TestScoresIndependentOfSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 0))
	const nc, dim = 301, 77
	queries, corpus := randomRows(r, gemmMinQueries+6, dim), randomRows(r, nc, dim)
	c, err := NewCorpus(corpus, true)
	require.NoError(t, err)
	splits := [][]Option{{WithWorkers(1)}, {WithWorkers(3), WithChunkSize(5)}, {WithChunkSize(1)}, {WithChunkSize(64)}}
	for _, batch := range [][][]float32{queries[:7], queries[:gemmMinQueries], queries} {
		all, err := c.Search(batch, nc)
		require.NoError(t, err)
		for _, opt := range splits {
			got, err := c.Search(batch, nc, opt...)
			require.NoError(t, err)
			require.Equal(t, all, got, "batch of %d, %d options: other hits or scores than with the default split", len(batch), len(opt))
		}
		topk, err := TopK(batch, corpus, nc, WithWorkers(3), WithChunkSize(11))
		require.NoError(t, err)
		checkHits(t, fmt.Sprintf("TopK vs Corpus.Search, batch of %d", len(batch)), topk, all, 1e-5)
	}
	small, err := c.Search(queries[:7], nc)
	require.NoError(t, err)
	large, err := c.Search(queries, nc)
	require.NoError(t, err)
	alone, err := c.Search(queries[:gemmMinQueries], nc, WithWorkers(2), WithChunkSize(17))
	require.NoError(t, err)
	require.Equal(t, alone, large[:gemmMinQueries], "gemm path: a query's hits depend on the other queries of its batch")
	for qi := range 7 {
		one, err := c.Search(queries[qi:qi+1], nc, WithWorkers(3), WithChunkSize(5))
		require.NoError(t, err)
		require.Equal(t, small[qi], one[0], "small-batch path: query %d alone and in a batch give different hits or scores", qi)
		checkHits(t, fmt.Sprintf("query %d alone vs in a large batch", qi), one, large[qi:qi+1], 1e-5)
	}
}

// TestTopKExtremeNorms checks TopK's cosine scores for rows whose norm is
// tiny (clamped to 1e-12, as torch does), zero, or so large that its
// reciprocal would not be a normal float32 (such rows are normalized
// instead of scaled): they match the float64 oracle.
func TestTopKExtremeNorms(t *testing.T) {
	queries := [][]float32{{3, 4, 0}, {0, 0, 1}}
	corpus := [][]float32{{6e36, 8e36, 0}, {0, 0, 0}, {3e-20, 0, 4e-20}, {1, 1, 1}, {0, -3e37, 1e37}, {2e38, 2.5e38, 1e38}}
	for _, opt := range [][]Option{nil, {WithWorkers(2), WithChunkSize(2)}} {
		got, err := TopK(queries, corpus, len(corpus), opt...)
		require.NoError(t, err)
		checkHits(t, "extreme norms", got, oracle(queries, corpus, len(corpus), Cosine), 1e-6)
	}
}

// TestKernelMatchesPortable compares the kernel in use (the assembly one on
// amd64 with AVX2 and FMA) with the portable Go kernel.
func TestKernelMatchesPortable(t *testing.T) {
	t.Logf("kernel in use: %s", kernelName)
	r := rand.New(rand.NewPCG(14, 0))
	for _, tc := range []struct{ nq, rows, dim int }{{1, 1, 8}, {4, 3, 16}, {5, 7, 768}, {9, 10, 13}, {2, 2, 3}} {
		q := randomRows(r, 1, tc.nq*tc.dim)[0]
		c := randomRows(r, 1, tc.rows*tc.dim)[0]
		got := make([]float32, tc.nq*tc.rows)
		want := make([]float32, tc.nq*tc.rows)
		scoreTile(got, q, tc.nq, c, tc.rows, tc.dim)
		scoreTileGo(want, q, tc.nq, c, tc.rows, tc.dim)
		testutil.AllClose(t, fmt.Sprintf("%dx%dx%d", tc.nq, tc.rows, tc.dim), got, want, 1e-4, 1e-5)
	}
}

func TestErrors(t *testing.T) {
	ok := [][]float32{{1, 2}, {3, 4}}
	for _, tc := range []struct {
		name            string
		queries, corpus [][]float32
		k               int
		opts            []Option
		want            string
	}{
		{"k zero", ok, ok, 0, nil, "k is 0"},
		{"k negative", ok, ok, -3, nil, "k is -3"},
		{"no queries", nil, ok, 1, nil, "no query"},
		{"no corpus", ok, nil, 1, nil, "no corpus"},
		{"ragged corpus", ok, [][]float32{{1, 2}, {3}}, 1, nil, "corpus 1 has 1 dimensions"},
		{"ragged queries", [][]float32{{1, 2}, {1, 2, 3}}, ok, 1, nil, "query 1 has 3 dimensions"},
		{"dimension mismatch", [][]float32{{1, 2, 3}}, ok, 1, nil, "dimension 3 but the corpus has 2"},
		{"empty vectors", [][]float32{{}}, [][]float32{{}}, 1, nil, "empty vector"},
		{"NaN", ok, [][]float32{{1, float32(math.NaN())}}, 1, nil, "corpus 0 holds NaN"},
		{"first bad row", ok, badRows(40, map[int]float32{31: float32(math.NaN()), 7: float32(math.Inf(-1))}), 1,
			[]Option{WithWorkers(3), WithChunkSize(2)}, "corpus 7 holds -Inf at dimension 1"},
		{"bad row, dot", ok, badRows(40, map[int]float32{33: float32(math.Inf(1))}), 1,
			[]Option{WithScore(Dot)}, "corpus 33 holds +Inf at dimension 1"},
		{"Inf query", [][]float32{{float32(math.Inf(1)), 0}}, ok, 1, nil, "query 0 holds +Inf"},
		{"bad workers", ok, ok, 1, []Option{WithWorkers(0)}, "workers"},
		{"bad chunk", ok, ok, 1, []Option{WithChunkSize(-1)}, "chunk size"},
		{"bad score", ok, ok, 1, []Option{WithScore(Score(7))}, "unknown score"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TopK(tc.queries, tc.corpus, tc.k, tc.opts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
	c, err := NewCorpus(ok, true)
	require.NoError(t, err)
	_, err = c.Search(ok, 1, WithScore(Dot))
	require.ErrorContains(t, err, "normalize=false", "dot search of a cosine corpus")
}

// badRows returns n rows {1, 0}, with row i's second value set to bad[i].
func badRows(n int, bad map[int]float32) [][]float32 {
	rows := make([][]float32, n)
	for i := range rows {
		rows[i] = []float32{1, bad[i]}
	}
	return rows
}

func TestZeroVectorCosine(t *testing.T) {
	// normalize divides by max(‖x‖, 1e-12): a zero vector scores 0, not NaN.
	hits, err := TopK([][]float32{{1, 0}}, [][]float32{{0, 0}, {-1, 0}}, 2)
	require.NoError(t, err)
	want := []Hit{{0, 0}, {1, -1}}
	require.Equal(t, want, hits[0])
}

func TestSaveLoad(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 0))
	emb, queries := randomRows(r, 40, 12), randomRows(r, 3, 12)
	for _, normalize := range []bool{true, false} {
		c, err := NewCorpus(emb, normalize)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "corpus.safetensors")
		require.NoError(t, c.Save(path))
		// The flag is ignored for a file written by Save.
		back, err := LoadCorpus(path, !normalize)
		require.NoError(t, err)
		require.Equal(t, []any{c.Score(), 40, 12}, []any{back.Score(), back.Len(), back.Dim()}, "normalize=%v: loaded corpus", normalize)
		for i := range c.Len() {
			require.Equal(t, c.Row(i), back.Row(i), "row %d changed in the round trip", i)
		}
		a, _ := c.Search(queries, 5)
		b, _ := back.Search(queries, 5)
		require.Equal(t, b, a, "normalize=%v: loaded corpus gives other hits", normalize)
	}
	_, err := LoadCorpus(filepath.Join(t.TempDir(), "missing.safetensors"), true)
	require.Error(t, err, "loading a missing file")
}
