package search

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// handCorpus has rows (x, 0) whose dot products with the queries (1, 0) and
// (-1, 0) are ±x, exact in float32, so every expected result below can be
// read off the list of scores:
//
//	query 0 (1, 0):  id 1 .875, 2 .75, 3 .625, 0 .5, 4 .375, 5 .25, 6 .125, 7 0
//	query 1 (-1, 0): id 7 0, 6 -.125, 5 -.25, 4 -.375, 0 -.5, 3 -.625, 2 -.75, 1 -.875
func handCorpus() Retriever {
	xs := []float32{0.5, 0.875, 0.75, 0.625, 0.375, 0.25, 0.125, 0}
	corpus := make([][]float32, len(xs))
	for i, x := range xs {
		corpus[i] = []float32{x, 0}
	}
	return Retriever{Queries: [][]float32{{1, 0}, {-1, 0}}, Corpus: corpus, Score: Dot}
}

// negativeIDs returns the corpus ids of each pair's negatives.
func negativeIDs(mined []Mined) [][]int {
	out := make([][]int, len(mined))
	for i, m := range mined {
		out[i] = []int{}
		for _, n := range m.Negatives {
			out[i] = append(out[i], n.CorpusID)
		}
	}
	return out
}

// TestMineHandComputed checks every option against results worked out by
// hand from handCorpus's scores (see there), following
// mine_hard_negatives: the best range max + P candidates (P = most
// positives of a query), positives and filtered candidates removed, ranks
// [range min, range max) of the rest, the best n.
func TestMineHandComputed(t *testing.T) {
	single := []Pair{{0, 2}, {1, 7}}        // positive scores .75 and 0
	multi := []Pair{{0, 2}, {0, 1}, {1, 7}} // query 0: positives .75 and .875
	for _, tc := range []struct {
		name  string
		pairs []Pair
		opts  []MineOption
		want  [][]int
	}{
		// range max = 0+3+1 = 4, 5 candidates: 1 2 3 0 4 and 7 6 5 4 0.
		{"default", single, nil, [][]int{{1, 3, 0}, {6, 5, 4}}},
		{"range min 1", single, []MineOption{WithRange(1, 0), WithNegatives(2)}, [][]int{{3, 0}, {5, 4}}},
		// GPL's window: the best 3 (1 2 3 and 7 6 5), positives then removed.
		{"positives counted", single, []MineOption{WithRange(0, 3), WithPositivesCounted()}, [][]int{{1, 3}, {6, 5}}},
		{"positives not counted", single, []MineOption{WithRange(0, 3)}, [][]int{{1, 3, 0}, {6, 5, 4}}},
		{"range window", single, []MineOption{WithRange(2, 4), WithNegatives(2)}, [][]int{{0, 4}, {4, 0}}},
		// Candidates scoring above the positive's .75 (and above 0) go.
		{"absolute margin 0", single, []MineOption{WithAbsoluteMargin(0), WithNegatives(2)}, [][]int{{3, 0}, {6, 5}}},
		// score + .2 > .75 removes .875 and .625; score + .2 > 0 removes -.125.
		{"absolute margin .2", single, []MineOption{WithAbsoluteMargin(0.2), WithNegatives(2)}, [][]int{{0, 4}, {5, 4}}},
		// score > .75·.75 = .5625 removes .875 and .625; score > 0 nothing.
		{"relative margin .25", single, []MineOption{WithRelativeMargin(0.25), WithNegatives(2)}, [][]int{{0, 4}, {6, 5}}},
		{"score window", single, []MineOption{WithMaxScore(0.7), WithMinScore(0.3)}, [][]int{{3, 0, 4}, {}}},
		{"max score", single, []MineOption{WithMaxScore(-0.2), WithNegatives(2)}, [][]int{{}, {5, 4}}},
		// Two positives: 6 candidates; both pairs of query 0 share its negatives.
		{"two positives", multi, []MineOption{WithNegatives(2)}, [][]int{{3, 0}, {3, 0}, {6, 5}}},
		// The lower positive score (.75) sets the margin: .5625 removes .625.
		{"two positives margin", multi, []MineOption{WithRelativeMargin(0.25), WithNegatives(2)}, [][]int{{0, 4}, {0, 4}, {6, 5}}},
		// 4 candidates for every query (range max 2 + 2 positives): query 1
		// has one positive, so a candidate past rank 2 refills the window
		// after max score removes 6, as torch.topk over range_max +
		// max_positives does in the reference.
		{"refill", multi, []MineOption{WithRange(0, 2), WithNegatives(2), WithMaxScore(-0.2)}, [][]int{{}, {}, {5, 4}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mined, err := MineHardNegatives(context.Background(), tc.pairs, []Retriever{handCorpus()}, tc.opts...)
			require.NoError(t, err)
			require.Len(t, mined, len(tc.pairs))
			assert.Equal(t, tc.want, negativeIDs(mined))
			for i, m := range mined {
				assert.Equal(t, tc.pairs[i], m.Pair)
				x := handCorpus().Corpus[m.Positive][0]
				if m.Query == 1 {
					x = -x
				}
				assert.Equal(t, []float32{x}, m.PositiveScores, "pair %d", i)
				for _, n := range m.Negatives {
					s := handCorpus().Corpus[n.CorpusID][0]
					if m.Query == 1 {
						s = -s
					}
					assert.Equal(t, s, n.Score, "pair %d negative %d", i, n.CorpusID)
					assert.Zero(t, n.Retriever)
				}
			}
		})
	}
}

// TestMineRandomSampling checks random sampling: n distinct negatives from
// the window, best first, the same for a seed however the work is split,
// and draws that change with the seed.
func TestMineRandomSampling(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 0))
	ret := Retriever{Queries: randomRows(r, 30, 8), Corpus: randomRows(r, 60, 8)}
	pairs := make([]Pair, 30)
	for i := range pairs {
		pairs[i] = Pair{i, r.IntN(60)}
	}
	top, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, WithRange(2, 12))
	require.NoError(t, err)
	window, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, WithRange(2, 12), WithNegatives(10))
	require.NoError(t, err)
	first, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, WithRange(2, 12), WithRandomSampling(7))
	require.NoError(t, err)
	differs := 0
	for _, tc := range []struct {
		name string
		opts []MineOption
	}{
		{"split", []MineOption{WithQueryBatch(4), WithSearchOptions(WithWorkers(3), WithChunkSize(5))}},
		{"other seed", []MineOption{WithRandomSampling(8)}},
	} {
		got, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, append([]MineOption{WithRange(2, 12), WithRandomSampling(7)}, tc.opts...)...)
		require.NoError(t, err, tc.name)
		for i, m := range got {
			require.Len(t, m.Negatives, 3, "%s: pair %d", tc.name, i)
			ids := negativeIDs(got)[i]
			assert.Subset(t, negativeIDs(window)[i], ids, "%s: pair %d: drawn from the window", tc.name, i)
			assert.True(t, slices.IsSortedFunc(m.Negatives, func(a, b Negative) int { return -cmp.Compare(a.Score, b.Score) }), "%s: pair %d: best first", tc.name, i)
			if tc.name == "split" {
				assert.Equal(t, negativeIDs(first)[i], ids, "pair %d: same draws for the same seed", i)
			} else if !slices.Equal(negativeIDs(first)[i], ids) {
				differs++
			}
		}
	}
	assert.Positive(t, differs, "another seed draws other negatives")
	assert.NotEqual(t, negativeIDs(top), negativeIDs(first), "random sampling differs from top")
}

// refMine is a brute-force mine_hard_negatives on the oracle's float64
// scores, written the way the reference computes it: a full score row,
// masked to -inf where a candidate is cut (outside the best range max + P,
// a positive, or filtered), sorted, the first range max kept, the first
// range min dropped, the first n of what is finite taken.
func refMine(pairs []Pair, ret Retriever, n, rangeMin, rangeMax int, counted bool, filter func(s, pos float32) bool) [][]int {
	full := oracle(ret.Queries, ret.Corpus, len(ret.Corpus), ret.Score)
	positives := map[int][]int{}
	maxPos := 0
	for _, p := range pairs {
		positives[p.Query] = append(positives[p.Query], p.Positive)
		maxPos = max(maxPos, len(positives[p.Query]))
	}
	out := make([][]int, len(pairs))
	for i, p := range pairs {
		ranked := full[p.Query]
		score := make([]float32, len(ret.Corpus))
		for _, h := range ranked {
			score[h.CorpusID] = h.Score
		}
		minPos := float32(math.Inf(1))
		for _, pos := range positives[p.Query] {
			minPos = min(minPos, score[pos])
		}
		cands := rangeMax + maxPos
		if counted {
			cands = rangeMax // GPL: the best range max, positives among them
		}
		masked := slices.Clone(ranked[:cands])
		for j, h := range masked {
			if slices.Contains(positives[p.Query], h.CorpusID) || filter(h.Score, minPos) {
				masked[j].Score = float32(math.Inf(-1))
			}
		}
		sortHits(masked)
		out[i] = []int{}
		for _, h := range masked[rangeMin:rangeMax] {
			if !math.IsInf(float64(h.Score), -1) && len(out[i]) < n {
				out[i] = append(out[i], h.CorpusID)
			}
		}
	}
	return out
}

// TestMineAgainstBruteForce compares with refMine on random data, for
// batches on both scoring paths, several ways of splitting the work,
// cosine and dot scores, and queries with one to three positives. Scores
// are float32 sums that match the oracle's to float32 rounding; the seeds
// are fixed, and no score falls within that rounding of a threshold or of
// another candidate's score at a rank that matters.
func TestMineAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(22, 0))
	for _, tc := range []struct {
		name              string
		n, rangeMin, rMax int
		opts              []MineOption
		filter            func(s, pos float32) bool
	}{
		{"default", 3, 0, 0, nil, nil},
		{"window", 5, 3, 20, []MineOption{WithNegatives(5), WithRange(3, 20)}, nil},
		{"GPL window", 10, 0, 10, []MineOption{WithNegatives(10), WithRange(0, 10), WithPositivesCounted()}, nil},
		{"absolute margin", 4, 0, 0, []MineOption{WithNegatives(4), WithAbsoluteMargin(0.05)},
			func(s, pos float32) bool { return s+0.05 > pos }},
		{"relative margin", 3, 0, 0, []MineOption{WithRelativeMargin(0.1)},
			func(s, pos float32) bool { return s > pos*0.9 }},
		{"score window", 6, 2, 40, []MineOption{WithNegatives(6), WithRange(2, 40), WithMaxScore(0.3), WithMinScore(-0.1)},
			func(s, pos float32) bool { return s > 0.3 || s < -0.1 }},
		{"all filters", 4, 1, 30, []MineOption{WithNegatives(4), WithRange(1, 30), WithMaxScore(0.4), WithMinScore(-0.2), WithAbsoluteMargin(0.02), WithRelativeMargin(0.05)},
			func(s, pos float32) bool { return s > 0.4 || s < -0.2 || s+0.02 > pos || s > pos*0.95 }},
	} {
		for _, size := range []struct{ nq, nc, dim int }{{40, 300, 24}, {gemmMinQueries + 20, 257, 33}} {
			queries, corpus := randomRows(r, size.nq, size.dim), randomRows(r, size.nc, size.dim)
			var pairs []Pair
			for q := range size.nq {
				for _, p := range r.Perm(size.nc)[:1+r.IntN(3)] {
					pairs = append(pairs, Pair{q, p})
				}
				if q%2 == 0 { // a query near one of its positives, which then ranks high
					for j, x := range corpus[pairs[len(pairs)-1].Positive] {
						queries[q][j] = x + 0.5*queries[q][j]
					}
				}
			}
			r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
			for _, score := range []Score{Cosine, Dot} {
				ret := Retriever{Queries: queries, Corpus: corpus, Score: score}
				filter := tc.filter
				if score == Dot && filter != nil {
					continue // the thresholds above are for cosine scores
				}
				if filter == nil {
					filter = func(float32, float32) bool { return false }
				}
				maxPos := 0
				for _, p := range pairs {
					maxPos = max(maxPos, countQuery(pairs, p.Query))
				}
				rMax := tc.rMax
				if rMax == 0 {
					rMax = tc.rangeMin + tc.n + maxPos
					if tc.filter != nil {
						rMax = tc.rangeMin + 10*tc.n + maxPos
					}
				}
				counted := slices.ContainsFunc(tc.opts, func(o MineOption) bool {
					var mo mineOptions
					o(&mo)
					return mo.positivesCounted
				})
				want := refMine(pairs, ret, tc.n, tc.rangeMin, rMax, counted, filter)
				for _, split := range [][]MineOption{nil, {WithQueryBatch(7)}, {WithQueryBatch(1000), WithSearchOptions(WithWorkers(3), WithChunkSize(13))}} {
					name := fmt.Sprintf("%s/%dx%dx%d/%v/%d-split", tc.name, size.nq, size.nc, size.dim, score, len(split))
					got, err := MineHardNegatives(context.Background(), pairs, []Retriever{ret}, append(slices.Clone(tc.opts), split...)...)
					require.NoError(t, err, name)
					require.Equal(t, want, negativeIDs(got), name)
				}
			}
		}
	}
}

func countQuery(pairs []Pair, q int) int {
	n := 0
	for _, p := range pairs {
		if p.Query == q {
			n++
		}
	}
	return n
}

// TestMineIndexMatchesRows mines a prepared Corpus and the same rows given
// as a slice: the same negatives, scores within float32 rounding.
func TestMineIndexMatchesRows(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 0))
	queries, corpus := randomRows(r, 20, 16), randomRows(r, 100, 16)
	pairs := []Pair{{0, 1}, {3, 4}, {5, 9}, {19, 99}}
	idx, err := NewCorpus(corpus, true)
	require.NoError(t, err)
	a, err := MineHardNegatives(context.Background(), pairs, []Retriever{{Queries: queries, Corpus: corpus}}, WithNegatives(6))
	require.NoError(t, err)
	b, err := MineHardNegatives(context.Background(), pairs, []Retriever{{Queries: queries, Index: idx}}, WithNegatives(6))
	require.NoError(t, err)
	require.Equal(t, negativeIDs(a), negativeIDs(b))
	for i := range a {
		assert.InDelta(t, a[i].PositiveScores[0], b[i].PositiveScores[0], 1e-6)
		for j := range a[i].Negatives {
			assert.InDelta(t, a[i].Negatives[j].Score, b[i].Negatives[j].Score, 1e-6)
		}
	}
}

// TestMineTwoRetrievers checks GPL's union: the first retriever's
// negatives, then the second's that the first did not find, each with the
// score of the retriever that found it.
func TestMineTwoRetrievers(t *testing.T) {
	a := handCorpus()
	// The second retriever ranks by y for query 0 (ids 4 5 6 0 ...) and by
	// -y for query 1; dimension 3.
	ys := []float32{0.5, 0.125, 0.25, 0, 0.875, 0.75, 0.625, 0.375}
	b := Retriever{Queries: [][]float32{{0, 1, 0}, {0, -1, 0}}, Score: Dot}
	for _, y := range ys {
		b.Corpus = append(b.Corpus, []float32{0, y, 1})
	}
	var calls [][2]int
	mined, err := MineHardNegatives(context.Background(), []Pair{{0, 2}, {1, 7}}, []Retriever{a, b},
		WithNegatives(3), WithQueryBatch(1), WithProgress(func(done, total int) { calls = append(calls, [2]int{done, total}) }))
	require.NoError(t, err)
	assert.Equal(t, [][2]int{{1, 4}, {2, 4}, {3, 4}, {4, 4}}, calls, "progress")
	// Query 0: a finds 1 3 0; b finds 4 5 6. Query 1: a finds 6 5 4; b
	// (scores -y+... over ids 3 1 2 0 ..., positive 7 removed) finds 3 1 2.
	assert.Equal(t, [][]int{{1, 3, 0, 4, 5, 6}, {6, 5, 4, 3, 1, 2}}, negativeIDs(mined))
	assert.Equal(t, []float32{0.75, 0.25}, mined[0].PositiveScores)
	assert.Equal(t, []float32{0, -0.375}, mined[1].PositiveScores)
	retrievers := func(m Mined) []int {
		var out []int
		for _, n := range m.Negatives {
			out = append(out, n.Retriever)
		}
		return out
	}
	assert.Equal(t, []int{0, 0, 0, 1, 1, 1}, retrievers(mined[0]))
	assert.Equal(t, Negative{CorpusID: 4, Score: 0.875, Retriever: 1}, mined[0].Negatives[3])

	// Where both find a row, the first retriever's copy is kept.
	mined, err = MineHardNegatives(context.Background(), []Pair{{0, 2}}, []Retriever{a, b}, WithNegatives(5))
	require.NoError(t, err)
	assert.Equal(t, [][]int{{1, 3, 0, 4, 5, 6, 7}}, negativeIDs(mined))
	assert.Equal(t, []int{0, 0, 0, 0, 0, 1, 1}, retrievers(mined[0]))
}

func TestMineOutputFormats(t *testing.T) {
	mined, err := MineHardNegatives(context.Background(), []Pair{{0, 2}, {1, 7}}, []Retriever{handCorpus()},
		WithNegatives(2), WithAbsoluteMargin(0.2), WithRange(0, 3))
	require.NoError(t, err)
	// 4 candidates: query 0 keeps 0 (1 and 3 fall to the margin, 2 is the
	// positive); query 1 keeps 5 and 4 (6 falls to the margin).
	require.Equal(t, [][]int{{0}, {5, 4}}, negativeIDs(mined))
	assert.Equal(t, [][3]int{{0, 2, 0}, {1, 7, 5}, {1, 7, 4}}, Triplets(mined))
	assert.Equal(t, [][]int{{1, 7, 5, 4}}, Tuples(mined, 2), "a pair with too few negatives is left out")
	assert.Equal(t, [][]int{{0, 2, 0}, {1, 7, 5}}, Tuples(mined, 1))
}

func TestMineErrors(t *testing.T) {
	ok := handCorpus()
	pairs := []Pair{{0, 2}, {1, 7}}
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name       string
		pairs      []Pair
		retrievers []Retriever
		opts       []MineOption
		want       string
	}{
		{"no pairs", nil, []Retriever{ok}, nil, "no (query, positive) pairs"},
		{"no retrievers", pairs, nil, nil, "no retrievers given"},
		{"no queries", pairs, []Retriever{{Corpus: ok.Corpus}}, nil, "retriever 0: no query embeddings"},
		{"no corpus", pairs, []Retriever{{Queries: ok.Queries}}, nil, "no corpus embeddings given"},
		{"empty index", pairs, []Retriever{{Queries: ok.Queries, Index: &Corpus{}}}, nil, "the corpus is empty"},
		{"corpus and index", pairs, []Retriever{{Queries: ok.Queries, Corpus: ok.Corpus, Index: &Corpus{n: 1, dim: 2, data: make([]float32, 2)}}}, nil, "both Corpus and Index"},
		{"unknown score", pairs, []Retriever{{Queries: ok.Queries, Corpus: ok.Corpus, Score: 7}}, nil, "unknown score"},
		{"query dimension", pairs, []Retriever{{Queries: [][]float32{{1, 0, 0}, {1, 0, 0}}, Corpus: ok.Corpus}}, nil, "query 0 has dimension 3 but the corpus has 2"},
		{"ragged corpus", pairs, []Retriever{{Queries: ok.Queries, Corpus: [][]float32{{1, 0}, {1}}}}, nil, "ragged"},
		{"non-finite query", pairs, []Retriever{{Queries: [][]float32{{1, 0}, {nan, 0}}, Corpus: ok.Corpus}}, nil, "query 1 holds NaN"},
		{"non-finite corpus", pairs, []Retriever{{Queries: ok.Queries, Corpus: append(slices.Clone(ok.Corpus), []float32{0, nan})}}, nil, "corpus 8 holds NaN"},
		{"query count", pairs, []Retriever{ok, {Queries: ok.Queries[:1], Corpus: ok.Corpus}}, nil, "retriever 1 has 1 query embeddings but retriever 0 has 2"},
		{"corpus count", pairs, []Retriever{ok, {Queries: ok.Queries, Corpus: ok.Corpus[:5]}}, nil, "retriever 1 has 5 corpus rows but retriever 0 has 8"},
		{"query index", []Pair{{2, 0}}, []Retriever{ok}, nil, "pair 0 names query 2, outside the 2 query embeddings"},
		{"positive index", []Pair{{0, 1}, {0, -1}}, []Retriever{ok}, nil, "pair 1 names positive -1"},
		{"no negatives", pairs, []Retriever{ok}, []MineOption{WithNegatives(0)}, "ask for at least one"},
		{"negative range", pairs, []Retriever{ok}, []MineOption{WithRange(-1, 0)}, "range min -1"},
		{"narrow window", pairs, []Retriever{ok}, []MineOption{WithRange(2, 4)}, "window [2, 4) holds fewer than the 3 negatives"},
		{"k above corpus", pairs, []Retriever{ok}, []MineOption{WithNegatives(8)}, "the corpus has 8 rows, fewer than the 8 negatives after rank 0 plus the 1 positives"},
		{"range max above corpus", pairs, []Retriever{ok}, []MineOption{WithRange(0, 8)}, "lower WithRange's max to at most 7"},
		{"NaN threshold", pairs, []Retriever{ok}, []MineOption{WithMaxScore(math.NaN())}, "max score is NaN"},
		{"batch", pairs, []Retriever{ok}, []MineOption{WithQueryBatch(-1)}, "query batch -1"},
		{"workers", pairs, []Retriever{ok}, []MineOption{WithSearchOptions(WithWorkers(0))}, "0 workers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MineHardNegatives(context.Background(), tc.pairs, tc.retrievers, tc.opts...)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestMineCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := MineHardNegatives(ctx, []Pair{{0, 2}}, []Retriever{handCorpus()})
	require.ErrorIs(t, err, context.Canceled)

	// Cancelled from the progress callback, between batches.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	batches := 0
	_, err = MineHardNegatives(ctx, []Pair{{0, 2}, {1, 7}}, []Retriever{handCorpus()}, WithQueryBatch(1),
		WithProgress(func(int, int) { batches++; cancel() }))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, batches)

	// Cancelled while the corpus is scored: run's workers stop.
	r := rand.New(rand.NewPCG(24, 0))
	q, c := randomRows(r, 2, 8), randomRows(r, 5000, 8)
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = run(ctx, q[0], 1, &source{n: len(c), dim: 8, rows: c}, 3, options{chunk: 16, workers: 2})
	require.ErrorIs(t, err, context.Canceled)
}
