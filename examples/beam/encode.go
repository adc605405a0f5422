package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/search"
)

func init() {
	register.DoFn4x1[context.Context, int, func(*corpus.Passage) bool, func(Shard), error](&encodeFn{})
	register.Emitter1[Shard]()
	register.DoFn4x1[context.Context, []byte, int, func(*Shard) bool, error](&writeManifestFn{})
	register.Iter1[Shard]()
}

// Shard is one embeddings file of the encoded corpus.
type Shard struct {
	Shard int    `json:"shard"`
	File  string `json:"file"`  // safetensors, as search.Corpus.Save writes it
	IDs   string `json:"ids"`   // "position<TAB>corpus id" a line, one per row
	First int    `json:"first"` // corpus position of row 0
	Rows  int    `json:"rows"`
	Dim   int    `json:"dim"`
}

// Manifest is Out/embeddings.json: the shards in corpus order.
type Manifest struct {
	Model  string  `json:"model"`
	Score  string  `json:"score"`
	Rows   int     `json:"rows"`
	Dim    int     `json:"dim"`
	Shards []Shard `json:"shards"`
}

// ManifestFile is the name of the manifest in the output folder.
const ManifestFile = "embeddings.json"

// shardName is the file name of shard n's embeddings and of its ids.
func shardName(n int) (emb, ids string) {
	base := fmt.Sprintf("embeddings-%05d", n)
	return base + ".safetensors", base + ".ids.tsv"
}

// EncodePipeline adds pipeline B to s: read c.Corpus and embed it with
// c.Encoder into sharded files, c.ShardRows consecutive passages each:
// Out/embeddings-NNNNN.safetensors (search.LoadCorpus reads each; cosine,
// rows normalized), Out/embeddings-NNNNN.ids.tsv (each row's position and
// corpus id) and Out/embeddings.json listing them in corpus order, with
// the unreadable lines in Out/deadletter.jsonl.
func EncodePipeline(s beam.Scope, c Config) {
	passages, dead := readCorpus(s, c)
	shards := spread(s.Scope("Encode"), c, passages, c.ShardRows, func() any {
		return &encodeFn{Model: c.Encoder, Out: c.Out, Batch: c.Batch}
	})
	ws := s.Scope("WriteManifest")
	beam.ParDo0(ws, &writeManifestFn{Out: c.Out, Model: c.Encoder}, beam.Impulse(ws),
		beam.SideInput{Input: countPassages(s, passages)}, beam.SideInput{Input: shards})
	writeDeadLetters(s, c, dead)
}

// encodeFn embeds one shard of passages with one encoder per instance,
// loaded in Setup, and writes the shard's files; a retried shard writes
// the same files again, whole.
type encodeFn struct {
	Model string
	Out   string
	Batch int

	model   *encoder.Model
	cleanup func()
	counters
}

func (f *encodeFn) Setup(ctx context.Context) (err error) {
	f.counters = newCounters()
	f.model, f.cleanup, err = loadModel(ctx, f.Model, "the encoder", func(ctx context.Context, dir string) (*encoder.Model, error) {
		return encoder.Load(ctx, dir, encoder.LoadOptions{})
	})
	return err
}

func (f *encodeFn) StartBundle(ctx context.Context, _ func(Shard)) { f.bundles.Inc(ctx, 1) }

func (f *encodeFn) ProcessElement(ctx context.Context, shard int, passages func(*corpus.Passage) bool, emit func(Shard)) error {
	var ps []corpus.Passage
	var p corpus.Passage
	for passages(&p) {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, byPosition)
	info, err := f.encode(ctx, shard, ps)
	if err != nil {
		f.failures.Inc(ctx, 1)
		return fmt.Errorf("encode: shard %d (positions %d–%d): %w", shard, ps[0].Position, ps[len(ps)-1].Position, err)
	}
	f.passages.Inc(ctx, int64(len(ps)))
	log.Infof(ctx, "encode: shard %d: %d passages at positions %d–%d → %s", shard, len(ps), info.First, info.First+info.Rows-1, info.File)
	emit(info)
	return nil
}

func (f *encodeFn) encode(ctx context.Context, shard int, ps []corpus.Passage) (Shard, error) {
	texts := make([]string, len(ps))
	var ids []byte
	for i, p := range ps {
		texts[i] = p.Text
		ids = strconv.AppendInt(ids, int64(p.Position), 10)
		ids = append(append(append(ids, '\t'), p.ID...), '\n')
	}
	emb, err := f.model.Encode(ctx, texts, encoder.WithBatchSize(f.Batch))
	if err != nil {
		return Shard{}, err
	}
	c, err := search.NewCorpus(emb, true)
	if err != nil {
		return Shard{}, err
	}
	data, err := saveBytes(c)
	if err != nil {
		return Shard{}, err
	}
	embName, idsName := shardName(shard)
	if err := writeFile(ctx, joinPath(f.Out, embName), data); err != nil {
		return Shard{}, err
	}
	if err := writeFile(ctx, joinPath(f.Out, idsName), ids); err != nil {
		return Shard{}, err
	}
	return Shard{Shard: shard, File: embName, IDs: idsName, First: ps[0].Position, Rows: len(ps), Dim: c.Dim()}, nil
}

// saveBytes is the file search.Corpus.Save writes for c.
func saveBytes(c *search.Corpus) ([]byte, error) {
	f, err := os.CreateTemp("", "genq-embeddings-*.safetensors")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	if err := c.Save(name); err != nil {
		return nil, err
	}
	return os.ReadFile(name)
}

func (f *encodeFn) Teardown() {
	if f.cleanup != nil {
		f.cleanup()
	}
}

// writeManifestFn checks that the shards hold every passage once, in
// order, and writes Out/embeddings.json.
type writeManifestFn struct {
	Out, Model string
}

func (f *writeManifestFn) ProcessElement(ctx context.Context, _ []byte, read int, shards func(*Shard) bool) error {
	m := Manifest{Model: f.Model, Score: search.Cosine.String()}
	var sh Shard
	for shards(&sh) {
		m.Shards = append(m.Shards, sh)
	}
	slices.SortFunc(m.Shards, func(a, b Shard) int { return a.First - b.First })
	for i, sh := range m.Shards {
		if sh.First != m.Rows {
			return fmt.Errorf("embeddings shard %d starts at position %d, want %d: a shard is missing or came out twice", sh.Shard, sh.First, m.Rows)
		}
		if i > 0 && sh.Dim != m.Dim {
			return fmt.Errorf("embeddings shard %d has dimension %d, shard %d has %d", sh.Shard, sh.Dim, m.Shards[0].Shard, m.Dim)
		}
		m.Dim = sh.Dim
		m.Rows += sh.Rows
	}
	if m.Rows != read {
		return fmt.Errorf("%d passages were read but the shards hold %d rows", read, m.Rows)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	name := joinPath(f.Out, ManifestFile)
	if err := writeFile(ctx, name, append(b, '\n')); err != nil {
		return err
	}
	log.Infof(ctx, "wrote %d embeddings of dimension %d in %d shards; manifest %s", m.Rows, m.Dim, len(m.Shards), name)
	return nil
}
