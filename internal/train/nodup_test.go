package train

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
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
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestNoDuplicatesNeverRepeatsAText(t *testing.T) {
	data := pairs(60)
	d, err := NewNoDuplicates(data, 8, 42)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 7 {
		t.Fatalf("Len() = %d, want ⌊60/8⌋ = 7", d.Len())
	}
	for bi, b := range batches(t, d, 5*d.Len()) {
		if len(b) != 8 {
			t.Fatalf("batch %d has %d examples, want 8", bi, len(b))
		}
		seen := map[string]int{}
		for _, ex := range b {
			for _, text := range data[ex] {
				k := strings.ToLower(strings.TrimSpace(text))
				if prev, dup := seen[k]; dup {
					t.Fatalf("batch %d: examples %d and %d share the text %q", bi, prev, ex, k)
				}
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
	if err != nil {
		t.Fatal(err)
	}
	perm := d.State().Perm
	got := batches(t, d, 3)
	for i, b := range got {
		if !reflect.DeepEqual(b, perm[4*i:4*i+4]) {
			t.Fatalf("batch %d = %v, want the shuffled order's slice %v", i, b, perm[4*i:4*i+4])
		}
	}
	if s := d.State(); s.Pointer != 0 || reflect.DeepEqual(s.Perm, perm) {
		t.Fatalf("after a full pass the pointer is %d (want 0) and the order must be reshuffled", s.Pointer)
	}

	// Examples 0 and 1 share a query: whichever comes second in the order
	// is skipped and consumed.
	dup := [][]string{{"same", "a"}, {"SAME ", "b"}, {"x", "c"}, {"y", "d"}, {"z", "e"}, {"w", "f"}}
	d, err = NewNoDuplicates(dup, 3, 11)
	if err != nil {
		t.Fatal(err)
	}
	s := d.State()
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
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b, want) || d.State().Pointer != pointer%len(dup) {
		t.Fatalf("batch %v with pointer %d, want %v with pointer %d (order %v)", b, d.State().Pointer, want, pointer%len(dup), s.Perm)
	}
}

func TestNoDuplicatesSeed(t *testing.T) {
	data := pairs(40)
	run := func(seed uint64) [][]int {
		d, err := NewNoDuplicates(data, 6, seed)
		if err != nil {
			t.Fatal(err)
		}
		return batches(t, d, 20)
	}
	a, b, c := run(1), run(1), run(2)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different batches")
	}
	if reflect.DeepEqual(a, c) {
		t.Fatal("seeds 1 and 2 gave the same batches")
	}
}

// TestNoDuplicatesResume saves the state after k batches (through JSON, as
// the checkpoint store does), restores it into a fresh batcher and requires
// the remaining batches of an uninterrupted run, across several reshuffles.
func TestNoDuplicatesResume(t *testing.T) {
	data := pairs(50)
	const k, total = 9, 40
	full, err := NewNoDuplicates(data, 7, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := batches(t, full, total)

	first, _ := NewNoDuplicates(data, 7, 5)
	batches(t, first, k)
	raw, err := json.Marshal(first.State())
	if err != nil {
		t.Fatal(err)
	}
	var s BatcherState
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	resumed, _ := NewNoDuplicates(data, 7, 999) // the seed is overridden by the state
	if err := resumed.SetState(s); err != nil {
		t.Fatal(err)
	}
	if got := batches(t, resumed, total-k); !reflect.DeepEqual(got, want[k:]) {
		t.Fatalf("resumed batches differ from the uninterrupted run:\n got %v\nwant %v", got, want[k:])
	}
}

func TestNoDuplicatesTooFewDistinctTexts(t *testing.T) {
	// Every example shares the passage: a batch of 2 can never be filled.
	data := [][]string{{"a", "p"}, {"b", "p"}, {"c", " P"}}
	d, err := NewNoDuplicates(data, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := d.Next(); err == nil || !strings.Contains(err.Error(), "too few distinct texts") {
			t.Fatalf("call %d: error %v, want the too-few-distinct-texts error", i, err)
		}
	}

	// Many conflicts, but a batch is possible: one distinct example per batch
	// plus any of the 40 that share a query. It must not give up.
	data = nil
	for i := 0; i < 40; i++ {
		data = append(data, []string{"shared query", fmt.Sprint("p", i)})
	}
	data = append(data, []string{"other query", "other passage"})
	d, err = NewNoDuplicates(data, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches(t, d, 30) {
		if data[b[0]][0] == data[b[1]][0] {
			t.Fatalf("batch %v repeats a query", b)
		}
	}
}

func TestNoDuplicatesErrors(t *testing.T) {
	if _, err := NewNoDuplicates(pairs(3), 4, 1); err == nil || !strings.Contains(err.Error(), "3 examples cannot fill one batch of 4") {
		t.Errorf("error %v", err)
	}
	if _, err := NewNoDuplicates(pairs(3), 0, 1); err == nil {
		t.Error("batch size 0 accepted")
	}
	if _, err := NewNoDuplicates([][]string{{"a"}, {}}, 1, 1); err == nil || !strings.Contains(err.Error(), "example 1 has no texts") {
		t.Errorf("error %v", err)
	}
	d, _ := NewNoDuplicates(pairs(10), 2, 1)
	other, _ := NewNoDuplicates(pairs(11), 2, 1)
	if err := d.SetState(other.State()); err == nil || !strings.Contains(err.Error(), "other training data") {
		t.Errorf("state of other data: %v", err)
	}
	s := d.State()
	s.Perm[0] = s.Perm[1]
	if err := d.SetState(s); err == nil || !strings.Contains(err.Error(), "not a permutation") {
		t.Errorf("bad permutation: %v", err)
	}
	s = d.State()
	s.Pointer = 10
	if err := d.SetState(s); err == nil || !strings.Contains(err.Error(), "pointer 10") {
		t.Errorf("bad pointer: %v", err)
	}
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
		if got := dedupKey(in); got != want {
			t.Errorf("dedupKey(%q) = %q, want %q", in, got, want)
		}
	}
}
