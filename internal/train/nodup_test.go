package train

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pairs builds n (query, passage) examples with deliberate duplicates: every
// query repeats for three passages, some in other case or with spaces, and
// every fifth passage is shared.
func pairs(n int) [][]string {
	var out [][]string
	for i := 0; i < n; i++ {
		q := fmt.Sprintf("query %d", i/3)
		if i%3 == 1 {
			q = "  " + strings.ToUpper(q) + "\t"
		}
		p := fmt.Sprintf("passage %d", i)
		if i%5 == 0 {
			p = "Shared Passage"
		}
		out = append(out, []string{q, p})
	}
	return out
}

func batches(t *testing.T, d *NoDuplicates, n int) [][]int {
	t.Helper()
	var out [][]int
	for i := 0; i < n; i++ {
		b, err := d.Next()
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func TestNoDuplicatesNeverRepeatsAText(t *testing.T) {
	data := pairs(60)
	d, err := NewNoDuplicates(data, 8, 42)
	require.NoError(t, err)
	require.Equal(t, 7, d.Len(), "⌊60/8⌋")
	for bi, b := range batches(t, d, 5*d.Len()) {
		require.Len(t, b, 8, "batch %d", bi)
		seen := map[string]int{}
		for _, ex := range b {
			for _, text := range data[ex] {
				k := strings.ToLower(strings.TrimSpace(text))
				prev, dup := seen[k]
				require.False(t, dup, "batch %d: examples %d and %d share the text %q", bi, prev, ex, k)
				seen[k] = ex
			}
		}
	}
}

// TestNoDuplicatesAlgorithm follows the Python loader on the known order:
// distinct texts give each example exactly once per pass, in order; a
// conflicting example is skipped and consumed, not deferred.
func TestNoDuplicatesAlgorithm(t *testing.T) {
	distinct := make([][]string, 12)
	for i := range distinct {
		distinct[i] = []string{fmt.Sprint("q", i), fmt.Sprint("p", i)}
	}
	d, err := NewNoDuplicates(distinct, 4, 7)
	require.NoError(t, err)
	perm := d.State().Perm
	got := batches(t, d, 3)
	for i, b := range got {
		require.Equal(t, perm[4*i:4*i+4], b, "batch %d is the shuffled order's slice", i)
	}
	s := d.State()
	require.Zero(t, s.Pointer, "the pointer after a full pass")
	require.NotEqual(t, perm, s.Perm, "the order is reshuffled after a full pass")

	// Examples 0 and 1 share a query: whichever comes second in the order
	// is skipped and consumed.
	dup := [][]string{{"same", "a"}, {"SAME ", "b"}, {"x", "c"}, {"y", "d"}, {"z", "e"}, {"w", "f"}}
	d, err = NewNoDuplicates(dup, 3, 11)
	require.NoError(t, err)
	s = d.State()
	var want []int
	taken := map[string]bool{}
	pointer := 0
	for len(want) < 3 {
		ex := s.Perm[pointer]
		pointer++
		if k := dedupKey(dup[ex][0]); !taken[k] {
			taken[k] = true
			want = append(want, ex)
		}
	}
	b, err := d.Next()
	require.NoError(t, err)
	require.Equal(t, want, b, "order %v", s.Perm)
	require.Equal(t, pointer%len(dup), d.State().Pointer)
}

func TestNoDuplicatesSeed(t *testing.T) {
	data := pairs(40)
	run := func(seed uint64) [][]int {
		d, err := NewNoDuplicates(data, 6, seed)
		require.NoError(t, err)
		return batches(t, d, 20)
	}
	a, b, c := run(1), run(1), run(2)
	require.Equal(t, a, b, "the same seed gives the same batches")
	require.NotEqual(t, a, c, "seeds 1 and 2 give other batches")
}

// TestNoDuplicatesResume saves the state after k batches (through JSON, as
// the checkpoint store does), restores it into a fresh batcher and requires
// the remaining batches of an uninterrupted run, across several reshuffles.
func TestNoDuplicatesResume(t *testing.T) {
	data := pairs(50)
	const k, total = 9, 40
	full, err := NewNoDuplicates(data, 7, 5)
	require.NoError(t, err)
	want := batches(t, full, total)

	first, _ := NewNoDuplicates(data, 7, 5)
	batches(t, first, k)
	raw, err := json.Marshal(first.State())
	require.NoError(t, err)
	var s BatcherState
	require.NoError(t, json.Unmarshal(raw, &s))
	resumed, _ := NewNoDuplicates(data, 7, 999) // the seed is overridden by the state
	require.NoError(t, resumed.SetState(s))
	require.Equal(t, want[k:], batches(t, resumed, total-k), "resumed batches vs the uninterrupted run")
}

func TestNoDuplicatesTooFewDistinctTexts(t *testing.T) {
	// Every example shares the passage: a batch of 2 can never be filled.
	data := [][]string{{"a", "p"}, {"b", "p"}, {"c", " P"}}
	d, err := NewNoDuplicates(data, 2, 1)
	require.NoError(t, err)
	for i := 0; i < 2; i++ {
		_, err := d.Next()
		require.ErrorContains(t, err, "too few distinct texts", "call %d", i)
	}

	// Many conflicts, but a batch is possible: one distinct example per batch
	// plus any of the 40 that share a query. It must not give up.
	data = nil
	for i := 0; i < 40; i++ {
		data = append(data, []string{"shared query", fmt.Sprint("p", i)})
	}
	data = append(data, []string{"other query", "other passage"})
	d, err = NewNoDuplicates(data, 2, 3)
	require.NoError(t, err)
	for _, b := range batches(t, d, 30) {
		require.NotEqual(t, data[b[0]][0], data[b[1]][0], "batch %v repeats a query", b)
	}
}

func TestNoDuplicatesErrors(t *testing.T) {
	_, err := NewNoDuplicates(pairs(3), 4, 1)
	assert.ErrorContains(t, err, "3 examples cannot fill one batch of 4")
	_, err = NewNoDuplicates(pairs(3), 0, 1)
	assert.Error(t, err, "batch size 0")
	_, err = NewNoDuplicates([][]string{{"a"}, {}}, 1, 1)
	assert.ErrorContains(t, err, "example 1 has no texts")
	d, _ := NewNoDuplicates(pairs(10), 2, 1)
	other, _ := NewNoDuplicates(pairs(11), 2, 1)
	assert.ErrorContains(t, d.SetState(other.State()), "other training data")
	s := d.State()
	s.Perm[0] = s.Perm[1]
	assert.ErrorContains(t, d.SetState(s), "not a permutation")
	s = d.State()
	s.Pointer = 10
	assert.ErrorContains(t, d.SetState(s), "pointer 10")
}

func TestDedupKeyIsPythonStripLower(t *testing.T) {
	cases := map[string]string{
		"  Hello World\t\n": "hello world",
		"\x1cSep\x1f":       "sep",            // Python strips the information separators
		"\u00a0nbsp\u3000":  "nbsp",           // and Unicode spaces
		"ΟΔΟΣ":              "οδος",           // final sigma
		"ΟΔΟΣ ΣΑΣ":          "οδος σας",       // final sigma per word
		"ΣΑ":                "σα",             // initial sigma
		"Σ":                 "σ",              // no cased letter before
		"ΑΣ'Β":              "ασ'β",           // case-ignorable apostrophe, cased after
		"İstanbul":          "i\u0307stanbul", // full lowercase mapping of U+0130
		"ÀÉÎ Straße":        "àéî straße",
	}
	for in, want := range cases {
		assert.Equal(t, want, dedupKey(in), "dedupKey(%q)", in)
	}
}
