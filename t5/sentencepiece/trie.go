package sentencepiece

import "sort"

// pieceTrie is a byte trie over vocabulary pieces. It is built with a map of
// edges and then frozen into a compact form: the children of node n are
// labels[first[n]:first[n+1]] (sorted) leading to next[...], so a step is a
// short search in a few contiguous bytes.
type pieceTrie struct {
	build map[uint64]int32 // (node, byte) → child while building; nil once frozen
	value []int32          // piece id ending at each node, or -1

	first  []int32
	labels []byte
	next   []int32
	root   [256]int32 // children of the root, -1 when absent
}

func newPieceTrie() *pieceTrie {
	return &pieceTrie{build: map[uint64]int32{}, value: []int32{-1}}
}

func edgeKey(node int32, b byte) uint64 { return uint64(node)<<8 | uint64(b) }

// insert adds piece with id; it reports false when the piece is already
// there. It must not be called after the first lookup.
func (t *pieceTrie) insert(piece string, id int) bool {
	node := int32(0)
	for i := 0; i < len(piece); i++ {
		k := edgeKey(node, piece[i])
		child, ok := t.build[k]
		if !ok {
			child = int32(len(t.value))
			t.value = append(t.value, -1)
			t.build[k] = child
		}
		node = child
	}
	if t.value[node] >= 0 {
		return false
	}
	t.value[node] = int32(id)
	return true
}

// freeze turns the edge map into the compact arrays; call it once the last
// piece is inserted, before any lookup.
func (t *pieceTrie) freeze() {
	if t.build == nil {
		return
	}
	n := len(t.value)
	t.first = make([]int32, n+1)
	for k := range t.build {
		t.first[k>>8+1]++
	}
	for i := 1; i <= n; i++ {
		t.first[i] += t.first[i-1]
	}
	t.labels = make([]byte, len(t.build))
	t.next = make([]int32, len(t.build))
	fill := append([]int32(nil), t.first[:n]...)
	for k, child := range t.build {
		node := k >> 8
		t.labels[fill[node]] = byte(k)
		t.next[fill[node]] = child
		fill[node]++
	}
	for node := 0; node < n; node++ {
		lo, hi := t.first[node], t.first[node+1]
		if hi-lo > 1 {
			sort.Sort(edgeSlice{t.labels[lo:hi], t.next[lo:hi]})
		}
	}
	for b := range t.root {
		t.root[b] = t.child(0, byte(b))
	}
	t.build = nil
}

type edgeSlice struct {
	labels []byte
	next   []int32
}

func (e edgeSlice) Len() int           { return len(e.labels) }
func (e edgeSlice) Less(i, j int) bool { return e.labels[i] < e.labels[j] }
func (e edgeSlice) Swap(i, j int) {
	e.labels[i], e.labels[j] = e.labels[j], e.labels[i]
	e.next[i], e.next[j] = e.next[j], e.next[i]
}

// child returns the child of node along byte b, or -1.
func (t *pieceTrie) child(node int32, b byte) int32 {
	if node == 0 && t.build == nil {
		return t.root[b]
	}
	lo, hi := int(t.first[node]), int(t.first[node+1])
	for hi-lo > 8 {
		mid := int(uint(lo+hi) >> 1)
		if t.labels[mid] < b {
			lo = mid + 1
		} else {
			hi = mid + 1 // labels[mid] >= b: the match, if any, is at or before mid
		}
	}
	for i := lo; i < hi; i++ {
		if t.labels[i] == b {
			return t.next[i]
		}
	}
	return -1
}

// prefixes calls fn(id, length) for every piece that is a prefix of s, shortest
// first, as Darts' traverse does in sentencepiece's encoder.
func (t *pieceTrie) prefixes(s string, fn func(id int32, length int)) {
	node := int32(0)
	for i := 0; i < len(s); i++ {
		node = t.child(node, s[i])
		if node < 0 {
			return
		}
		if v := t.value[node]; v >= 0 {
			fn(v, i+1)
		}
	}
}

// longestMatch returns the byte length of the longest piece that is a prefix
// of s, 0 when there is none.
func (t *pieceTrie) longestMatch(s string) int {
	best := 0
	t.prefixes(s, func(_ int32, length int) { best = length })
	return best
}
