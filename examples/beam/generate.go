package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/t5"
)

func init() {
	register.DoFn4x1[context.Context, int, func(*corpus.Passage) bool, func(Generated), error](&generateFn{})
	register.Emitter1[Generated]()
	register.DoFn2x0[Generated, func(int, Generated)](&partKeyFn{})
	register.Emitter2[int, Generated]()
	register.Function2x2(distinctCount)
	register.DoFn5x1[context.Context, int, func(*Generated) bool, func(*int, *int) bool, func(Part), error](&writePartFn{})
	register.Iter1[Generated]()
	register.Iter2[int, int]()
	register.Emitter1[Part]()
	register.DoFn4x1[context.Context, []byte, int, func(*Part) bool, error](&concatFn{})
	register.Iter1[Part]()
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
	writeBEIR(s, c, gen, countPassages(s, passages))
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
	counters
}

func (f *generateFn) Setup(ctx context.Context) (err error) {
	f.counters = newCounters()
	f.model, f.cleanup, err = loadModel(ctx, f.Model, "the query generator", func(ctx context.Context, dir string) (*t5.Model, error) {
		m, err := t5.Load(ctx, dir, t5.LoadOptions{})
		if err == nil && m.Tokenizer() == nil {
			err = errors.New("it has no tokenizer (spiece.model); use a folder as save_pretrained writes it")
		}
		return m, err
	})
	return err
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

// flush generates the queries of ps, sorting them by position in place,
// one Generate call per run of consecutive positions.
func (f *generateFn) flush(ctx context.Context, ps []corpus.Passage, emit func(Generated)) error {
	slices.SortFunc(ps, byPosition)
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

// writeBEIR writes the generated queries in BEIR's GenQ layout. The ids
// are numbered over the whole corpus (each passage takes as many as it has
// distinct queries), so the files are written in parts of c.ShardRows
// consecutive passages, in parallel, each numbering from the sum of the
// distinct queries of the parts before it (a small side input), and then
// concatenated in order by one worker, streaming.
func writeBEIR(s beam.Scope, c Config, gen, read beam.PCollection) {
	s = s.Scope("WriteBEIR")
	keyed := beam.ParDo(s, &partKeyFn{Rows: c.ShardRows}, gen)
	counts := stats.SumPerKey(s, beam.ParDo(s, distinctCount, keyed))
	parts := beam.ParDo(s, &writePartFn{Out: c.Out, Prefix: c.Prefix, PerPassage: c.PerPassage, Rows: c.ShardRows},
		beam.GroupByKey(s, keyed), beam.SideInput{Input: counts})
	beam.ParDo0(s, &concatFn{Out: c.Out, Prefix: c.Prefix}, beam.Impulse(s), beam.SideInput{Input: read}, beam.SideInput{Input: parts})
}

// partKeyFn keys each passage's queries by the part of the BEIR files
// they go to: Rows consecutive positions.
type partKeyFn struct {
	Rows int
}

func (f *partKeyFn) ProcessElement(g Generated, emit func(int, Generated)) {
	emit(g.Position/f.Rows, g)
}

// distinctCount is the number of ids a passage takes in its part.
func distinctCount(part int, g Generated) (int, int) { return part, len(beir.Distinct(g.Queries)) }

// Part is one part of the BEIR files.
type Part struct {
	Part, First, Passages, Queries int
	QueriesFile, QrelsFile         string
}

// partsDir is the folder, under the output folder, of the parts.
const partsDir = ".genq-parts"

// writePartFn writes one part: its passages' lines of <prefix>-queries.jsonl
// and of <prefix>-qrels/train.tsv (without the header), the ids numbered
// on from the parts before it. It checks that the part holds each of its
// positions once.
type writePartFn struct {
	Out, Prefix      string
	PerPassage, Rows int
}

func (f *writePartFn) ProcessElement(ctx context.Context, part int, gens func(*Generated) bool, counts func(*int, *int) bool, emit func(Part)) error {
	var all []Generated
	var g Generated
	for gens(&g) {
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b Generated) int { return a.Position - b.Position })
	first := part * f.Rows
	if err := checkPositions(first, len(all), func(i int) int { return all[i].Position }); err != nil {
		return fmt.Errorf("BEIR part %d: %w", part, err)
	}
	for _, g := range all {
		if len(g.Queries) != f.PerPassage {
			return fmt.Errorf("the passage at position %d came with %d queries, want %d", g.Position, len(g.Queries), f.PerPassage)
		}
	}
	w := beir.GenQ{Next: 1}
	var p, n int
	for counts(&p, &n) {
		if p < part {
			w.Next += n
		}
	}
	var queries, qrels []byte
	for _, g := range all {
		queries, qrels, _ = w.Append(queries, qrels, g.ID, g.Queries)
	}
	base := fmt.Sprintf("%s-%05d", f.Prefix, part)
	info := Part{Part: part, First: first, Passages: len(all), Queries: strings.Count(string(qrels), "\n"),
		QueriesFile: joinPath(joinPath(f.Out, partsDir), base+"-queries.jsonl"),
		QrelsFile:   joinPath(joinPath(f.Out, partsDir), base+"-qrels.tsv")}
	if err := writeFile(ctx, info.QueriesFile, queries); err != nil {
		return err
	}
	if err := writeFile(ctx, info.QrelsFile, qrels); err != nil {
		return err
	}
	log.Infof(ctx, "write: BEIR part %d: %d passages at positions %d–%d, %d queries", part, info.Passages, first, first+info.Passages-1, info.Queries)
	emit(info)
	return nil
}

// concatFn checks that the parts hold every passage read exactly once and
// concatenates them, in order, into the BEIR files; then it removes them.
type concatFn struct {
	Out, Prefix string
}

func (f *concatFn) ProcessElement(ctx context.Context, _ []byte, read int, parts func(*Part) bool) error {
	var all []Part
	var p Part
	for parts(&p) {
		all = append(all, p)
	}
	slices.SortFunc(all, func(a, b Part) int { return a.First - b.First })
	passages, queries := 0, 0
	for _, p := range all {
		if p.First != passages {
			return fmt.Errorf("BEIR part %d starts at position %d, want %d: a part is missing or came out twice", p.Part, p.First, passages)
		}
		passages += p.Passages
		queries += p.Queries
	}
	if passages != read {
		return fmt.Errorf("%d passages were read but %d came out", read, passages)
	}
	qpath, rpath := outPath(f.Out, beir.QueriesPath("", f.Prefix)), outPath(f.Out, beir.QrelsPath("", f.Prefix, beir.GenSplit))
	if err := concatFiles(ctx, qpath, nil, all, func(p Part) string { return p.QueriesFile }); err != nil {
		return err
	}
	if err := concatFiles(ctx, rpath, beir.AppendQrelsHeader(nil), all, func(p Part) string { return p.QrelsFile }); err != nil {
		return err
	}
	for _, p := range all {
		removeFile(ctx, p.QueriesFile)
		removeFile(ctx, p.QrelsFile)
	}
	removeFile(ctx, joinPath(f.Out, partsDir))
	log.Infof(ctx, "wrote %d queries for %d passages (%d parts) to %s and %s", queries, passages, len(all), qpath, rpath)
	return nil
}

// concatFiles writes name whole: head, then the file of each part in order.
func concatFiles(ctx context.Context, name string, head []byte, parts []Part, file func(Part) string) error {
	return writeStream(ctx, name, func(w io.Writer) error {
		if _, err := w.Write(head); err != nil {
			return err
		}
		for _, p := range parts {
			r, err := openRead(ctx, file(p))
			if err != nil {
				return err
			}
			_, err = io.Copy(w, r)
			r.Close()
			if err != nil {
				return fmt.Errorf("copying %s: %w", file(p), err)
			}
		}
		return nil
	})
}

// outPath is the file rel (a relative local path) under the folder out.
func outPath(out, rel string) string { return joinPath(out, filepath.ToSlash(rel)) }

// checkPositions checks that n outputs, whose sorted positions pos gives,
// are exactly the positions first, first+1, ...: none missing, none twice.
func checkPositions(first, n int, pos func(int) int) error {
	for i := range n {
		switch p := pos(i); {
		case i > 0 && p == pos(i-1):
			return fmt.Errorf("the passage at position %d came out twice: a retried bundle's output was kept twice", p)
		case p != first+i:
			return fmt.Errorf("the passage at position %d is missing from the output", first+i)
		}
	}
	return nil
}
