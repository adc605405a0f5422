//go:build cuda

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/internal/kernel"
)

func TestEmbedding(t *testing.T) {
	dev := newDevice(t)
	r := rand.New(rand.NewPCG(5, 5))
	const vocab, d, n = 50, 37, 123
	table, dy := randoms(r, vocab*d, -1, 1), randoms(r, n*d, -1, 1)
	ids := make([]int, n)
	for i := range ids {
		ids[i] = r.IntN(vocab / 5) // many repeats
	}
	ids[n-1] = vocab - 1
	tabled, dyd, idsd := upload(dev, table), upload(dev, dy), upload(dev, ids)

	want := make([]float64, n*d)
	require.NoError(t, kernel.Gather(want, f64(table), ids, d))
	out := dev.floats(n * d)
	require.NoError(t, dev.l.Gather(out, tabled, idsd, n, d, vocab))
	requireClose(t, "gather", dev.read(out, n*d), want)

	bad := upload(dev, []int{3, vocab, -1})
	require.NoError(t, dev.l.Gather(out, tabled, bad, 3, d, vocab))
	got := dev.read(out, 3*d)
	require.Equal(t, table[3*d:4*d], got[:d])
	for _, v := range got[d:] {
		require.True(t, math.IsNaN(float64(v)), "an id outside the vocabulary gives NaN")
	}

	wantT := make([]float64, vocab*d)
	kernel.ScatterAdd(wantT, f64(dy), ids, d)
	dt := dev.floats(vocab * d)
	require.NoError(t, dev.l.Fill(dt, vocab*d, 0))
	require.NoError(t, dev.l.ScatterAdd(dt, dyd, idsd, n, d))
	requireClose(t, "scatter-add", dev.read(dt, vocab*d), wantT)
}

func TestPositionBias(t *testing.T) {
	dev := newDevice(t)
	r := rand.New(rand.NewPCG(6, 6))
	for _, c := range []struct{ batch, heads, s, tk, buckets int }{
		{2, 3, 5, 7, 32}, {1, 8, 1, 9, 32}, {3, 2, 40, 40, 17},
	} {
		pos := c.s * c.tk
		table := randoms(r, c.buckets*c.heads, -1, 1)
		mask := randoms(r, c.batch*pos, -1, 0)
		mask[0] = kernel.MaskedValue
		buckets := make([]int, pos)
		for i := range buckets {
			buckets[i] = r.IntN(c.buckets)
		}
		dy := randoms(r, c.batch*c.heads*pos, -1, 1)
		tabled, maskd, bd, dyd := upload(dev, table), upload(dev, mask), upload(dev, buckets), upload(dev, dy)

		n := c.batch * c.heads * pos
		want := make([]float64, n)
		kernel.PositionBias(want, f64(table), buckets, f64(mask), c.batch, c.heads)
		out := dev.floats(n)
		require.NoError(t, dev.l.PositionBias(out, tabled, bd, maskd, pos, c.batch, c.heads))
		requireClose(t, "position bias", dev.read(out, n), want)

		wantT := make([]float64, c.buckets*c.heads)
		kernel.PositionBiasBackward(wantT, f64(dy), buckets, c.batch, c.heads)
		dt := dev.floats(c.buckets * c.heads)
		require.NoError(t, dev.l.PositionBiasBackward(dt, dyd, bd, pos, c.batch, c.heads, c.buckets))
		requireClose(t, "position bias dtable", dev.read(dt, c.buckets*c.heads), wantT)
	}
}
