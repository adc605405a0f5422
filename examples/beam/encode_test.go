package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/search"
)

// encodeTolerance bounds |Δ| between a row of an embeddings shard and the
// normalized embedding of its passage encoded on its own list: Encode pads
// and batches the texts differently in the two (the shard's passages only,
// the whole slice), which changes float32 rounding, not the result.
const encodeTolerance = 1e-5

// TestEncodeShards runs pipeline B on Prism with two workers and checks that
// every shard loads with search.LoadCorpus, that the shards hold the
// passages in corpus order with their ids, and that each row is the
// passage's embedding as encoder.Encode gives it.
func TestEncodeShards(t *testing.T) {
	c := testConfig(t)
	c.ShardRows, c.Workers, c.Batch = 20, 2, 8
	counters, err := runOnPrism(t, EncodePipeline, c, false)
	require.NoError(t, err)
	require.EqualValues(t, testLimit, counters[cPassages])

	passages, err := corpus.ReadFile(c.Corpus)
	require.NoError(t, err)
	passages = passages[:testLimit]
	texts := make([]string, len(passages))
	for i, p := range passages {
		texts[i] = p.Text
	}
	m, err := encoder.Load(context.Background(), c.Encoder, encoder.LoadOptions{})
	require.NoError(t, err)
	want, err := m.Encode(context.Background(), texts, encoder.WithNormalize(true))
	require.NoError(t, err)

	b, err := os.ReadFile(filepath.Join(c.Out, ManifestFile))
	require.NoError(t, err)
	var man Manifest
	require.NoError(t, json.Unmarshal(b, &man))
	require.Equal(t, testLimit, man.Rows)
	require.Len(t, man.Shards, 3) // 20 + 20 + 8 rows
	row := 0
	for i, sh := range man.Shards {
		emb, ids := shardName(i)
		require.Equal(t, emb, sh.File)
		require.Equal(t, ids, sh.IDs)
		require.Equal(t, row, sh.First)
		cs, err := search.LoadCorpus(filepath.Join(c.Out, sh.File), false)
		require.NoError(t, err)
		require.Equal(t, search.Cosine, cs.Score())
		require.Equal(t, sh.Rows, cs.Len())
		idLines, err := os.ReadFile(filepath.Join(c.Out, sh.IDs))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(idLines), "\n"), "\n")
		require.Len(t, lines, sh.Rows)
		for r := range sh.Rows {
			require.Equal(t, fmt.Sprintf("%d\t%s", row, passages[row].ID), lines[r])
			got := cs.Row(r)
			for d := range got {
				require.LessOrEqual(t, math.Abs(float64(got[d]-want[row][d])), encodeTolerance, "row %d dim %d", row, d)
			}
			row++
		}
	}
	require.Equal(t, testLimit, row)
}
