package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/t5"
)

func init() {
	register.DoFn4x1[context.Context, int, func(*corpus.Passage) bool, func(Generated), error](&generateFn{})
	register.Emitter1[Generated]()
	register.DoFn4x1[context.Context, []byte, int, func(*Generated) bool, error](&writeGenQFn{})
	register.Iter1[Generated]()
}

// GeneratePipeline adds pipeline A to s: read c.Corpus, sample c.PerPassage
// queries for each passage, and write them in BEIR's GenQ layout
// (Out/<prefix>-queries.jsonl and Out/<prefix>-qrels/train.tsv, ids genQ1,
// genQ2, ... in corpus order) with the unreadable lines in
// Out/deadletter.jsonl.
//
// Each passage's queries are drawn from the random stream of its corpus
// position (t5.GenerateOptions.FirstIndex), so they depend on the seed and
// the position only: not on the runner, the workers, the bundles, -block or
// -batch; the files equal those one process writes.
func GeneratePipeline(s beam.Scope, c Config) {
	passages, dead := readCorpus(s, c)
	gen := spread(s.Scope("Generate"), c, passages, c.Block, func() any {
		return &generateFn{Model: c.Generator, PerPassage: c.PerPassage, Seed: c.Seed, Batch: c.Batch, Block: c.Block, FailOnce: c.FailOnce}
	})
	ws := s.Scope("WriteBEIR")
	beam.ParDo0(ws, &writeGenQFn{Out: c.Out, Prefix: c.Prefix, PerPassage: c.PerPassage}, beam.Impulse(ws),
		beam.SideInput{Input: countPassages(s, passages)}, beam.SideInput{Input: gen})
	writeDeadLetters(s, c, dead)
}

// generateFn samples queries with one T5 model per instance, loaded in
// Setup. It gathers the passages of a bundle and generates them Batch at a
// time (the rest in FinishBundle); each Generate call takes a run of
// consecutive positions with FirstIndex its first, so that batching changes
// no query.
type generateFn struct {
	Model      string
	PerPassage int
	Seed       uint64
	Batch      int
	Block      int
	FailOnce   string

	model   *t5.Model
	cleanup func()
	buf     []corpus.Passage

	passages, queries, failures, bundles beam.Counter
}

func (f *generateFn) Setup(ctx context.Context) error {
	f.passages = beam.NewCounter(metricNamespace, cPassages)
	f.queries = beam.NewCounter(metricNamespace, cQueries)
	f.failures = beam.NewCounter(metricNamespace, cFailures)
	f.bundles = beam.NewCounter(metricNamespace, cBundles)
	dir, cleanup, err := stageModel(ctx, f.Model)
	if err != nil {
		return fmt.Errorf("the query generator %s: %w", f.Model, err)
	}
	m, err := t5.Load(ctx, dir, t5.LoadOptions{})
	if err != nil {
		cleanup()
		return fmt.Errorf("loading the query generator %s: %w", f.Model, err)
	}
	if m.Tokenizer() == nil {
		cleanup()
		return fmt.Errorf("the query generator %s has no tokenizer (spiece.model); use a folder as save_pretrained writes it", f.Model)
	}
	f.model, f.cleanup = m, cleanup
	log.Infof(ctx, "generate: loaded %s", f.Model)
	return nil
}

func (f *generateFn) StartBundle(ctx context.Context, _ func(Generated)) {
	f.buf = f.buf[:0]
	f.bundles.Inc(ctx, 1)
}

func (f *generateFn) ProcessElement(ctx context.Context, block int, passages func(*corpus.Passage) bool, emit func(Generated)) error {
	start := len(f.buf)
	var p corpus.Passage
	for passages(&p) {
		f.buf = append(f.buf, p)
	}
	group := f.buf[start:]
	slices.SortFunc(group, byPosition)
	if len(group) > 0 {
		log.Infof(ctx, "generate: shard %d: %d passages at positions %d–%d", block, len(group), group[0].Position, group[len(group)-1].Position)
	}
	for len(f.buf) >= f.Batch {
		if err := f.flush(ctx, f.buf[:f.Batch], emit); err != nil {
			return err
		}
		f.buf = slices.Delete(f.buf, 0, f.Batch)
	}
	return nil
}

func (f *generateFn) FinishBundle(ctx context.Context, emit func(Generated)) error {
	err := f.flush(ctx, f.buf, emit)
	f.buf = f.buf[:0]
	return err
}

func (f *generateFn) Teardown() {
	if f.cleanup != nil {
		f.cleanup()
	}
}

func byPosition(a, b corpus.Passage) int { return a.Position - b.Position }

// flush generates the queries of ps (sorted by position), one Generate
// call per run of consecutive positions.
func (f *generateFn) flush(ctx context.Context, ps []corpus.Passage, emit func(Generated)) error {
	opts := t5.DefaultGenerateOptions()
	opts.NumReturnSequences = f.PerPassage
	opts.Seed = f.Seed
	opts.BatchSize = f.Batch
	for len(ps) > 0 {
		n := 1
		for n < len(ps) && ps[n].Position == ps[n-1].Position+1 {
			n++
		}
		run := ps[:n]
		ps = ps[n:]
		texts := make([]string, len(run))
		for i, p := range run {
			texts[i] = p.Text
		}
		first, last := run[0].Position, run[len(run)-1].Position
		opts.FirstIndex = first
		queries, err := f.model.Generate(ctx, texts, opts)
		if err == nil && len(queries) != len(run) {
			err = fmt.Errorf("the generator returned queries for %d passages, want %d", len(queries), len(run))
		}
		if err != nil {
			f.failures.Inc(ctx, 1)
			return fmt.Errorf("generate: shard %d, passages at positions %d–%d: %w", first/f.Block, first, last, err)
		}
		for i, qs := range queries {
			if len(qs) != f.PerPassage {
				f.failures.Inc(ctx, 1)
				return fmt.Errorf("generate: shard %d: the generator returned %d queries for the passage at position %d, want %d", run[i].Position/f.Block, len(qs), run[i].Position, f.PerPassage)
			}
			emit(Generated{Position: run[i].Position, ID: run[i].ID, Queries: qs})
			f.queries.Inc(ctx, int64(len(qs)))
		}
		f.passages.Inc(ctx, int64(len(run)))
		if f.FailOnce != "" && markOnce(f.FailOnce) {
			f.failures.Inc(ctx, 1)
			return fmt.Errorf("generate: shard %d: injected failure after the passages at positions %d–%d (fault injection: %s now exists, so the retry goes on)", first/f.Block, first, last, f.FailOnce)
		}
	}
	return nil
}

// writeGenQFn writes the generated queries in BEIR's GenQ layout, in one
// ordered pass (the ids are numbered over the whole corpus, so they need
// every earlier passage's count of distinct queries), after checking that
// every passage read came out exactly once.
type writeGenQFn struct {
	Out, Prefix string
	PerPassage  int
}

func (f *writeGenQFn) ProcessElement(ctx context.Context, _ []byte, read int, gen func(*Generated) bool) error {
	all := make([]Generated, 0, read)
	var g Generated
	for gen(&g) {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b Generated) int { return a.Position - b.Position })
	if err := checkComplete(len(all), read, func(i int) int { return all[i].Position }); err != nil {
		return err
	}
	var w beir.GenQ
	queries, qrels := []byte(nil), beir.AppendQrelsHeader(nil)
	for _, g := range all {
		if len(g.Queries) != f.PerPassage {
			return fmt.Errorf("the passage at position %d came with %d queries, want %d", g.Position, len(g.Queries), f.PerPassage)
		}
		queries, qrels, _ = w.Append(queries, qrels, g.ID, g.Queries)
	}
	qpath, rpath := outPath(f.Out, beir.QueriesPath("", f.Prefix)), outPath(f.Out, beir.QrelsPath("", f.Prefix, beir.GenSplit))
	if err := writeFile(ctx, qpath, queries); err != nil {
		return err
	}
	if err := writeFile(ctx, rpath, qrels); err != nil {
		return err
	}
	log.Infof(ctx, "wrote %d queries for %d passages to %s and %s", w.Next-1, len(all), qpath, rpath)
	return nil
}

// outPath is the file rel (a relative local path) under the folder out.
func outPath(out, rel string) string { return joinPath(out, filepath.ToSlash(rel)) }

// checkComplete checks that n outputs, whose sorted positions pos gives,
// are exactly positions 0..read-1: none missing, none twice.
func checkComplete(n, read int, pos func(int) int) error {
	for i := range n {
		switch p := pos(i); {
		case i > 0 && p == pos(i-1):
			return fmt.Errorf("the passage at position %d came out twice: a retried bundle's output was kept twice", p)
		case p != i:
			return fmt.Errorf("the passage at position %d is missing from the output (%d of %d passages came out)", i, n, read)
		}
	}
	if n != read {
		return fmt.Errorf("%d passages were read but %d came out", read, n)
	}
	return nil
}
