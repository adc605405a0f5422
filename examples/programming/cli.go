package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/examples/internal/beir"
)

// Names of the files under -out.
const (
	queriesFile    = "generated_queries.tsv"
	modelFolder    = "programming-model"
	checkpointsDir = "checkpoints"
	cacheDir       = "cache"
)

// config holds every flag; each subcommand registers the ones it uses.
type config struct {
	corpus, evalFile, out string
	beirDir, beirSplit    string
	format, beirPrefix    string
	generator, base       string
	model, models         string
	retrievers            string
	crossEncoder          string

	perPassage, batch  int
	epochs, trainBatch int
	checkpointEvery    int
	gplSteps, gplBatch int
	negatives          int
	limit, k           int
	seed               uint64
	overwrite, quiet   bool
	tiny               bool
	queries            queryList
}

// queryList is the repeatable -q flag.
type queryList []string

func (q *queryList) String() string { return strings.Join(*q, " | ") }
func (q *queryList) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty query")
	}
	*q = append(*q, s)
	return nil
}

// flags returns the flag set of subcommand name, bound to a.config with the
// recipe's defaults.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	c := &a.config
	uses := func(cmds ...string) bool {
		for _, x := range cmds {
			if x == name || name == "all" {
				return true
			}
		}
		return false
	}
	fs.StringVar(&c.out, "out", "output", "folder for generated_queries.tsv, checkpoints/, programming-model/ and cache/")
	if uses("generate", "gpl", "search", "eval") {
		fs.StringVar(&c.corpus, "corpus", bundledName, "passages: JSON lines {\"title\", \"paragraphs\": [...]}, a BEIR corpus.jsonl ({\"_id\", \"title\", \"text\"}; either optionally gzipped) or plain text, one passage per line; \"bundled\" is the built-in corpus of 30 technologies × 8 paragraphs")
	}
	if uses("generate") {
		fs.StringVar(&c.generator, "generator", "BeIR/query-gen-msmarco-t5-base-v1", "T5 query generator: a hub id or a local folder")
		fs.IntVar(&c.perPassage, "queries-per-passage", 5, "queries sampled per passage")
		fs.IntVar(&c.batch, "batch", 8, "passages per generation batch (the TSV is synced after each)")
		fs.IntVar(&c.limit, "limit", 0, "generate for the first N passages only, for quick runs (0: all); search and eval use the whole corpus")
	}
	if uses("train", "gpl", "eval") {
		fs.StringVar(&c.base, "base", "distilbert-base-uncased", "base model to train (a hub id or a local folder; a plain BERT/DistilBERT gets mean pooling); eval's \"base\"")
	}
	if uses("gpl") {
		fs.StringVar(&c.retrievers, "retrievers", strings.Join(encoder.GPLRetrievers(), ","), "comma-separated bi-encoders that mine GPL's hard negatives (hub ids or folders)")
		fs.StringVar(&c.crossEncoder, "cross-encoder", encoder.GPLCrossEncoder, "cross-encoder whose logit margins label GPL's triples (a hub id or a folder)")
		fs.IntVar(&c.gplSteps, "gpl-steps", 0, "GPL training steps, one labelled batch each (0: three passes over the generated queries; GPL's own default is 140000)")
		fs.IntVar(&c.gplBatch, "gpl-batch", 32, "(query, positive, negative) triples per GPL batch")
		fs.IntVar(&c.negatives, "negatives", 50, "hard negatives each retriever mines per query")
	}
	if uses("train", "gpl") {
		fs.IntVar(&c.checkpointEvery, "checkpoint-every", 10, "write a resumable checkpoint every N training steps (0: never)")
	}
	if uses("train") {
		fs.IntVar(&c.epochs, "epochs", 3, "training epochs")
		fs.IntVar(&c.trainBatch, "train-batch", 64, "pairs per training batch (the other passages of a batch are the negatives)")
	}
	if uses("generate", "train", "gpl") {
		fs.Uint64Var(&c.seed, "seed", 42, "seed for sampling queries and for the training batch order and dropout")
		fs.BoolVar(&c.overwrite, "overwrite", false, "start over: discard generated queries (generate), checkpoints and the trained model (train), GPL's labelled data, checkpoints and model (gpl)")
	}
	if uses("search") {
		fs.StringVar(&c.model, "model", "", "model to search with (default: -out/programming-model)")
	}
	if uses("search", "eval") {
		fs.IntVar(&c.k, "k", 10, "hits per query, and the cut-off of the eval metrics")
	}
	if uses("search") {
		fs.Var(&c.queries, "q", "a query (repeatable); without -q, search reads queries from stdin, one per line")
	}
	if uses("eval") {
		fs.StringVar(&c.models, "models", defaultModels, "comma-separated models to compare: \"base\" (-base), \"trained\" (-out/programming-model), \"gpl\" (-out/gpl-model; left out of the default when gpl has not run), hub ids or folders")
		fs.StringVar(&c.evalFile, "eval", bundledName, "labelled queries, JSON lines {\"query\", \"relevant\": [{\"title\", \"paragraph\"}]}; \"bundled\" goes with the built-in corpus")
		fs.StringVar(&c.beirDir, "beir", "", "evaluate on a BEIR dataset folder instead of -corpus and -eval: corpus.jsonl, queries.jsonl and qrels/<-beir-split>.tsv; reports MRR@k, nDCG@k and Recall@100 as BEIR's EvaluateRetrieval computes them (graded relevance, a hit whose id is the query's own ignored)")
		fs.StringVar(&c.beirSplit, "beir-split", "test", "the qrels split of -beir: qrels/<split>.tsv")
	}
	if uses("generate", "train", "gpl", "eval") {
		fs.BoolVar(&c.tiny, "tiny", false, "use the tiny random-weight checkpoints of the repository's testdata/fixtures (t5-tiny as -generator, distilbert-tiny as -base, distilbert-tiny and bert-tiny as -retrievers, cross-encoder-tiny as -cross-encoder, unless given): a quick offline check of the plumbing of every step, not of quality; needs a genq checkout")
	}
	if name == "generate" {
		fs.StringVar(&c.format, "format", "tsv", "output layout: \"tsv\" writes generated_queries.tsv (query<TAB>passage, what train and gpl read); \"beir\" writes the layout BEIR's GenQ writes under -out: <prefix>-queries.jsonl, <prefix>-qrels/train.tsv (ids genQ1, genQ2, … over the distinct queries of each passage) and corpus.jsonl")
		fs.StringVar(&c.beirPrefix, "beir-prefix", beir.DefaultPrefix, "file-name prefix of -format beir (BEIR's QueryGenerator prefix)")
	}
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bars")
	fs.Usage = func() {
		if name == "all" {
			a.usage()
			fmt.Fprintln(a.stderr)
		}
		for _, cmd := range commands {
			if cmd.name == name {
				fmt.Fprintf(a.stderr, "usage: programming %s [flags]\n\n%s.\n\nflags:\n", name, cmd.summary)
			}
		}
		fs.PrintDefaults()
	}
	return fs
}

// validate checks the values of the flags fs registered: counts that must be
// positive, and the output folder.
func validate(fs *flag.FlagSet) error {
	if fs.Lookup("out").Value.String() == "" {
		return errors.New("-out must name a folder")
	}
	for _, name := range []string{"queries-per-passage", "batch", "epochs", "train-batch", "k", "gpl-batch", "negatives"} {
		if f := fs.Lookup(name); f != nil {
			if n, err := strconv.Atoi(f.Value.String()); err != nil || n <= 0 {
				return fmt.Errorf("-%s must be positive, got %s", name, f.Value)
			}
		}
	}
	if f := fs.Lookup("format"); f != nil && f.Value.String() != "tsv" && f.Value.String() != "beir" {
		return fmt.Errorf("-format must be tsv or beir, got %q", f.Value)
	}
	if f := fs.Lookup("beir-prefix"); f != nil && strings.ContainsAny(f.Value.String(), `/\`) {
		return fmt.Errorf("-beir-prefix must be a file-name prefix, without a path separator, got %q", f.Value)
	}
	for _, name := range []string{"limit", "checkpoint-every", "gpl-steps"} {
		if f := fs.Lookup(name); f != nil {
			if n, err := strconv.Atoi(f.Value.String()); err != nil || n < 0 {
				return fmt.Errorf("-%s must not be negative, got %s", name, f.Value)
			}
		}
	}
	return nil
}

// trainedDir is where train saves the model: -out/programming-model.
func (c *config) trainedDir() string { return filepath.Join(c.out, modelFolder) }

// queriesPath is -out/generated_queries.tsv.
func (c *config) queriesPath() string { return filepath.Join(c.out, queriesFile) }
