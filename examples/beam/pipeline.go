package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"

	"github.com/genq-go/genq/examples/internal/corpus"
)

// Config is what the pipelines take: the command's flags, resolved.
type Config struct {
	// Corpus is a corpus file or a glob of sharded files (read in the
	// order of their sorted names), local or in a bucket: a BEIR
	// corpus.jsonl, the programming example's JSON lines (optionally
	// gzipped) or plain text, as package corpus reads them.
	Corpus string
	// Limit keeps the first Limit passages only (0: all), as the
	// programming example's -limit.
	Limit int
	// Out is the output folder, local or in a bucket.
	Out string
	// Generator is the T5 query generator and Encoder the bi-encoder:
	// a local folder, a hub id or a bucket folder.
	Generator, Encoder string
	// PerPassage is the number of queries sampled per passage, Seed
	// seeds the sampling.
	PerPassage int
	Seed       uint64
	// Batch is the number of passages per Generate (or Encode) call.
	Batch int
	// Block is the number of consecutive passages grouped under one key:
	// the shard that travels between workers, is logged, and is retried
	// as a whole. ShardRows is the rows of one embeddings file.
	Block, ShardRows int
	// Workers is the number of branches the generation (or encoding)
	// stage is split into, each a stage of its own with its own model;
	// see the README for what it means on each runner.
	Workers int
	// PrismSplit lets Prism split slow bundles into more (main sets
	// Prism's prism_disable_sdf_split experiment unless it is set).
	PrismSplit bool
	// Prefix is the BEIR prefix of the generated files ("gen").
	Prefix string
	// FailOnce, when set, makes the first generation bundle to run fail
	// once, after it emitted its first batch: the first bundle to create
	// the file FailOnce fails, every later attempt goes on. Tests use it
	// to check that a retried bundle leaves no duplicate or missing line.
	FailOnce string
}

// DeadLetter is a corpus line that could not be read; the pipeline writes
// them to deadletter.jsonl and goes on.
type DeadLetter struct {
	Source string `json:"source"` // the corpus file
	Line   int    `json:"line"`   // from 1
	Reason string `json:"reason"` // why the line was refused
	Record string `json:"record"` // the line as read
}

// Generated is the queries sampled for one passage.
type Generated struct {
	Position int    // the passage's place in the corpus (corpus.Passage.Position)
	ID       string // the passage's corpus id
	Queries  []string
}

// Counter names, in the namespace "genq".
const (
	metricNamespace = "genq"
	cPassages       = "passages"     // passages given queries (or embeddings)
	cQueries        = "queries"      // queries sampled
	cFailures       = "failures"     // bundles that failed (generation or encoding errors, injected faults)
	cDeadLetters    = "dead_letters" // corpus lines sent to deadletter.jsonl
	cRead           = "passages_read"
	cBundles        = "bundles" // bundles the generation or encoding stage ran
)

func init() {
	register.DoFn4x1[context.Context, string, func(corpus.Passage), func(DeadLetter), error](&readFn{})
	register.Emitter1[corpus.Passage]()
	register.Emitter1[DeadLetter]()
	register.DoFn2x0[corpus.Passage, func(int, corpus.Passage)](&blockFn{})
	register.Emitter2[int, corpus.Passage]()
	register.DoFn3x0[int, corpus.Passage, func(int, corpus.Passage)](&workerFn{})
	register.Iter1[corpus.Passage]()
	register.DoFn3x1[context.Context, []byte, func(*DeadLetter) bool, error](&writeDeadFn{})
	register.Iter1[DeadLetter]()
}

// readCorpus reads c.Corpus into passages, each with its corpus position,
// and the lines it could not read.
func readCorpus(s beam.Scope, c Config) (passages, dead beam.PCollection) {
	s = s.Scope("ReadCorpus")
	return beam.ParDo2(s, &readFn{Limit: c.Limit}, beam.Create(s, c.Corpus))
}

// readFn reads the corpus files a glob names, in the order of their sorted
// names, numbering the passages across them: the positions are those one
// reader of the files concatenated would give, and so those of the
// programming example for its corpus. Reading is one sequential pass (the
// positions depend on every earlier file); generation, the costly part,
// is what the pipeline spreads.
type readFn struct {
	Limit int
}

func (f *readFn) ProcessElement(ctx context.Context, glob string, emit func(corpus.Passage), dead func(DeadLetter)) error {
	read := beam.NewCounter(metricNamespace, cRead)
	bad := beam.NewCounter(metricNamespace, cDeadLetters)
	files, err := listFiles(ctx, glob)
	if err != nil {
		return fmt.Errorf("reading the corpus: %w", err)
	}
	next := 0
	for i, name := range files {
		if f.Limit > 0 && next >= f.Limit {
			break
		}
		n, nbad, err := f.readFile(ctx, name, next, emit, func(d DeadLetter) {
			bad.Inc(ctx, 1)
			dead(d)
		})
		if err != nil {
			return err
		}
		read.Inc(ctx, int64(n))
		log.Infof(ctx, "read: corpus shard %d of %d (%s): %d passages at positions %d–%d, %d bad lines sent to the dead letters", i+1, len(files), name, n, next, next+n-1, nbad)
		next += n
	}
	if next == 0 {
		return fmt.Errorf("the corpus %s holds no passages", glob)
	}
	return nil
}

// readFile reads one corpus file, numbering its passages from first.
func (f *readFn) readFile(ctx context.Context, name string, first int, emit func(corpus.Passage), dead func(DeadLetter)) (n, bad int, err error) {
	r, err := openRead(ctx, name)
	if err != nil {
		return 0, 0, err
	}
	defer r.Close()
	rd, err := corpus.NewReader(r, name)
	if err != nil {
		return 0, 0, err
	}
	defer rd.Close()
	rd.OnBadLine = func(b corpus.BadLine) {
		bad++
		dead(DeadLetter{Source: b.Name, Line: b.Line, Reason: b.Err.Error(), Record: b.Text})
	}
	for f.Limit <= 0 || first+n < f.Limit {
		p, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, bad, err
		}
		p.Position += first
		emit(p)
		n++
	}
	return n, bad, nil
}

// blockFn keys each passage by its block: Block consecutive positions.
type blockFn struct {
	Block int
}

func (f *blockFn) ProcessElement(p corpus.Passage, emit func(int, corpus.Passage)) {
	emit(p.Position/f.Block, p)
}

// workerFn keeps the blocks of one of Workers branches.
type workerFn struct {
	Worker, Workers int
}

func (f *workerFn) ProcessElement(block int, p corpus.Passage, emit func(int, corpus.Passage)) {
	if block%f.Workers == f.Worker {
		emit(block, p)
	}
}

// spread groups the passages by block and runs the stage newFn makes on
// the groups, in c.Workers branches of their own (one when Workers ≤ 1),
// and flattens the branches' outputs.
func spread(s beam.Scope, c Config, passages beam.PCollection, block int, newFn func() any) beam.PCollection {
	keyed := beam.ParDo(s, &blockFn{Block: block}, passages)
	workers := max(c.Workers, 1)
	outs := make([]beam.PCollection, workers)
	for w := range workers {
		ws := s.Scope(fmt.Sprintf("worker%d", w))
		part := keyed
		if workers > 1 {
			part = beam.ParDo(ws, &workerFn{Worker: w, Workers: workers}, keyed)
		}
		outs[w] = beam.ParDo(ws, newFn(), beam.GroupByKey(ws, part))
	}
	if workers == 1 {
		return outs[0]
	}
	return beam.Flatten(s, outs...)
}

// writeDeadLetters writes the dead letters, sorted by file and line, to
// Out/deadletter.jsonl: one JSON object a line, an empty file when every
// line was read.
func writeDeadLetters(s beam.Scope, c Config, dead beam.PCollection) {
	s = s.Scope("WriteDeadLetters")
	beam.ParDo0(s, &writeDeadFn{Out: c.Out}, beam.Impulse(s), beam.SideInput{Input: dead})
}

// DeadLetterFile is the name of the dead-letter output in the output folder.
const DeadLetterFile = "deadletter.jsonl"

type writeDeadFn struct {
	Out string
}

func (f *writeDeadFn) ProcessElement(ctx context.Context, _ []byte, dead func(*DeadLetter) bool) error {
	var all []DeadLetter
	var d DeadLetter
	for dead(&d) {
		all = append(all, d)
	}
	slices.SortFunc(all, func(a, b DeadLetter) int {
		if a.Source != b.Source {
			return strings.Compare(a.Source, b.Source)
		}
		return a.Line - b.Line
	})
	var buf []byte
	for _, d := range all {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	name := joinPath(f.Out, DeadLetterFile)
	if err := writeFile(ctx, name, buf); err != nil {
		return err
	}
	log.Infof(ctx, "wrote %d dead letters to %s", len(all), name)
	return nil
}

// countPassages is the number of passages read, for the writers' check
// that every passage came out once.
func countPassages(s beam.Scope, passages beam.PCollection) beam.PCollection {
	return stats.CountElms(s.Scope("CountPassages"), passages)
}

// counters are the genq counters of a model stage; a DoFn makes its own in
// Setup.
type counters struct {
	passages, queries, failures, bundles beam.Counter
}

func newCounters() counters {
	return counters{
		passages: beam.NewCounter(metricNamespace, cPassages),
		queries:  beam.NewCounter(metricNamespace, cQueries),
		failures: beam.NewCounter(metricNamespace, cFailures),
		bundles:  beam.NewCounter(metricNamespace, cBundles),
	}
}

// loadModel loads the model name with load, from the local folder
// stageModel gives for it; cleanup removes the staged copy (never nil).
// what names the model in errors and logs.
func loadModel[M any](ctx context.Context, name, what string, load func(context.Context, string) (M, error)) (m M, cleanup func(), err error) {
	cleanup = func() {}
	dir, remove, err := stageModel(ctx, name)
	if err != nil {
		return m, cleanup, fmt.Errorf("%s %s: %w", what, name, err)
	}
	m, err = load(ctx, dir)
	if err != nil {
		remove()
		return m, cleanup, fmt.Errorf("loading %s %s: %w", what, name, err)
	}
	log.Infof(ctx, "loaded %s %s", what, name)
	return m, remove, nil
}

// markOnce creates the file path unless it exists and reports whether it
// did: true for exactly one caller, whichever process or worker it runs in
// (the file is created with O_EXCL).
func markOnce(path string) bool {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return false
	}
	f.Close()
	return true
}
