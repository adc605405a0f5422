package kernel

// TopK keeps the k best items offered to it, by an order better(a, b) (a
// strict weak order: a ranks before b), in a binary heap whose root is the
// worst item kept, so that offering an item costs O(1) when it is no better
// than the root and O(log k) otherwise. The zero value is unusable: make one
// with NewTopK.
type TopK[E any] struct {
	k      int
	better func(a, b E) bool
	items  []E
}

// NewTopK returns an empty TopK keeping at most k ≥ 1 items.
func NewTopK[E any](k int, better func(a, b E) bool) *TopK[E] {
	return &TopK[E]{k: k, better: better, items: make([]E, 0, k)}
}

// Full reports whether k items are kept.
func (t *TopK[E]) Full() bool { return len(t.items) == t.k }

// Worst returns the worst item kept (the root); t must not be empty.
func (t *TopK[E]) Worst() E { return t.items[0] }

// Items returns the items kept, in heap order (not sorted); the slice is
// t's own.
func (t *TopK[E]) Items() []E { return t.items }

// Push offers e: it is kept when fewer than k items are, or when it is
// better than the worst of them, which it then replaces.
func (t *TopK[E]) Push(e E) {
	if len(t.items) < t.k {
		t.items = append(t.items, e)
		t.up(len(t.items) - 1)
		return
	}
	if !t.better(e, t.items[0]) {
		return
	}
	t.items[0] = e
	t.down(0)
}

func (t *TopK[E]) up(i int) {
	h := t.items
	for i > 0 {
		p := (i - 1) / 2
		if !t.better(h[p], h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (t *TopK[E]) down(i int) {
	h := t.items
	n := len(h)
	for {
		w, l, r := i, 2*i+1, 2*i+2
		if l < n && t.better(h[w], h[l]) {
			w = l
		}
		if r < n && t.better(h[w], h[r]) {
			w = r
		}
		if w == i {
			return
		}
		h[i], h[w] = h[w], h[i]
		i = w
	}
}
