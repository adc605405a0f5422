package main

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScore(t *testing.T) {
	rel := func(ids ...string) map[string]bool {
		m := map[string]bool{}
		for _, id := range ids {
			m[id] = true
		}
		return m
	}
	log2 := math.Log2
	tests := []struct {
		name     string
		ranked   []string
		relevant map[string]bool
		k        int
		want     metrics
	}{
		{"first hit", []string{"a", "b", "c"}, rel("a"), 10, metrics{1, 1, 1}},
		{"third hit", []string{"x", "y", "a"}, rel("a"), 10, metrics{1.0 / 3, 1 / log2(4), 1}},
		{"miss beyond k", []string{"x", "y", "a"}, rel("a"), 2, metrics{0, 0, 0}},
		{"two relevant, one found at 2", []string{"x", "a", "y"}, rel("a", "b"), 10,
			metrics{0.5, (1 / log2(3)) / (1 + 1/log2(3)), 0.5}},
		{"two relevant, both found", []string{"b", "x", "a"}, rel("a", "b"), 10,
			metrics{1, (1 + 1/log2(4)) / (1 + 1/log2(3)), 1}},
		{"no relevant", []string{"a"}, rel(), 10, metrics{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := score(tc.ranked, tc.relevant, tc.k)
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"MRR", got.MRR, tc.want.MRR}, {"nDCG", got.NDCG, tc.want.NDCG}, {"Recall", got.Recall, tc.want.Recall}} {
				assert.InDelta(t, c.want, c.got, 1e-12, c.what)
			}
		})
	}
}
