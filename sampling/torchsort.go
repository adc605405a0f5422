package sampling

import "math/bits"

// torchSort sorts entries ascending by score in exactly the order torch 1.13's
// CPU torch.sort(stable=False) leaves them, ties included. That kernel calls
// libstdc++'s std::sort (introsort: median-of-three quicksort down to runs of
// 16, heapsort past a depth of 2·⌊log2 n⌋, then one insertion sort) on
// (value, index) pairs compared by value alone, so equal scores end in an
// order that depends on the whole input — the lower token id is not always
// first. The functions below follow libstdc++'s algorithm step by step; the
// fixture's torch.sort indices check them.
func torchSort(es []entry) {
	n := len(es)
	if n < 2 {
		return
	}
	introsortLoop(es, 0, n, 2*(bits.Len(uint(n))-1))
	finalInsertionSort(es, 0, n)
}

// sortLess is torch's KeyValueCompAsc: NaN above every number.
func sortLess(a, b entry) bool {
	return (a.v == a.v && b.v != b.v) || a.v < b.v
}

const sortThreshold = 16 // libstdc++'s _S_threshold

func introsortLoop(es []entry, first, last, depth int) {
	for last-first > sortThreshold {
		if depth == 0 {
			heapSort(es[first:last])
			return
		}
		depth--
		cut := partitionPivot(es, first, last)
		introsortLoop(es, cut, last, depth)
		last = cut
	}
}

func partitionPivot(es []entry, first, last int) int {
	mid := first + (last-first)/2
	moveMedianToFirst(es, first, first+1, mid, last-1)
	return unguardedPartition(es, first+1, last, first)
}

func moveMedianToFirst(es []entry, result, a, b, c int) {
	lo, hi := a, b
	if !sortLess(es[a], es[b]) {
		lo, hi = b, a
	}
	m := lo
	switch {
	case sortLess(es[hi], es[c]):
		m = hi
	case sortLess(es[lo], es[c]):
		m = c
	}
	es[result], es[m] = es[m], es[result]
}

func unguardedPartition(es []entry, first, last, pivot int) int {
	for {
		for sortLess(es[first], es[pivot]) {
			first++
		}
		last--
		for sortLess(es[pivot], es[last]) {
			last--
		}
		if first >= last {
			return first
		}
		es[first], es[last] = es[last], es[first]
		first++
	}
}

func finalInsertionSort(es []entry, first, last int) {
	if last-first > sortThreshold {
		insertionSort(es, first, first+sortThreshold)
		for i := first + sortThreshold; i < last; i++ {
			unguardedLinearInsert(es, i)
		}
		return
	}
	insertionSort(es, first, last)
}

func insertionSort(es []entry, first, last int) {
	for i := first + 1; i < last; i++ {
		if sortLess(es[i], es[first]) {
			v := es[i]
			copy(es[first+1:i+1], es[first:i])
			es[first] = v
			continue
		}
		unguardedLinearInsert(es, i)
	}
}

func unguardedLinearInsert(es []entry, last int) {
	v := es[last]
	next := last - 1
	for sortLess(v, es[next]) {
		es[last] = es[next]
		last = next
		next--
	}
	es[last] = v
}

// heapSort is libstdc++'s std::__partial_sort(first, last, last): make_heap
// then sort_heap, with its hole-moving __adjust_heap.
func heapSort(es []entry) {
	n := len(es)
	if n < 2 {
		return
	}
	for parent := (n - 2) / 2; ; parent-- {
		adjustHeap(es, parent, n, es[parent])
		if parent == 0 {
			break
		}
	}
	for last := n - 1; last > 0; last-- {
		v := es[last]
		es[last] = es[0]
		adjustHeap(es, 0, last, v)
	}
}

func adjustHeap(es []entry, hole, n int, v entry) {
	top := hole
	child := hole
	for child < (n-1)/2 {
		child = 2 * (child + 1)
		if sortLess(es[child], es[child-1]) {
			child--
		}
		es[hole] = es[child]
		hole = child
	}
	if n&1 == 0 && child == (n-2)/2 {
		child = 2 * (child + 1)
		es[hole] = es[child-1]
		hole = child - 1
	}
	parent := (hole - 1) / 2
	for hole > top && sortLess(es[parent], v) {
		es[hole] = es[parent]
		hole = parent
		parent = (hole - 1) / 2
	}
	es[hole] = v
}
