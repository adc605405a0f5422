// Command beam runs GenQ's query generation, and the corpus encoding that
// search reads, as Apache Beam pipelines: in-process on the Prism runner
// with no cluster (the default), or on Dataflow, Flink or Spark with
// Beam's usual flags.
//
//	go run . -tiny                    # generate, offline, with the test checkpoints
//	go run . -tiny encode             # embed the corpus into sharded files
//	go run . -h                       # flags (genq's and Beam's)
//
// generate (pipeline A) reads a corpus — a BEIR corpus.jsonl, the
// programming example's JSON lines (optionally gzipped), plain text, or a
// glob of such shards — numbers its passages in corpus order, samples
// queries for each with a T5 model that every DoFn instance loads once, and
// writes them as BEIR's GenQ does: <out>/gen-queries.jsonl and
// <out>/gen-qrels/train.tsv. encode (pipeline B) embeds the corpus with a
// bi-encoder into <out>/embeddings-NNNNN.safetensors files that
// search.LoadCorpus reads, listed in <out>/embeddings.json. Lines that
// cannot be read go to <out>/deadletter.jsonl with the reason, and the
// pipeline goes on. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/s3"
)

// The bundled corpus and the tiny checkpoints, inside a genq checkout.
const (
	bundledName   = "bundled"
	bundledCorpus = "examples/programming/data/programming.jsonl.gz"
	tinyGenerator = "testdata/fixtures/t5-tiny"
	tinyEncoder   = "testdata/fixtures/distilbert-tiny"
)

// tinyCaveat is what -tiny says when it starts.
const tinyCaveat = "-tiny: the tiny random-weight checkpoints of testdata/fixtures check the pipeline's plumbing, not quality: their queries are gibberish. Run without -tiny for real queries."

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, c, err := parseFlags(flag.CommandLine, os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	// A worker started by a cluster runner runs the pipeline's DoFns
	// inside Init, which then does not return.
	beam.Init()
	if !c.PrismSplit && isPrism() {
		disablePrismSplits()
	}
	if err := run(ctx, cmd, c, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// flags are the command line's values before they are resolved.
type flags struct {
	Config
	tiny bool
}

// parseFlags adds genq's flags to fs (Beam's own, such as -runner, are
// already there when fs is flag.CommandLine), parses args and returns the
// subcommand ("generate" or "encode") and the resolved configuration.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (string, Config, error) {
	var f flags
	fs.SetOutput(stderr)
	fs.StringVar(&f.Corpus, "corpus", bundledName, `corpus file or glob of shards (local, gs://, s3://): BEIR corpus.jsonl, the programming example's JSON lines {"title", "paragraphs"} (optionally gzipped) or plain text; "bundled" is the programming example's corpus (needs a genq checkout)`)
	fs.IntVar(&f.Limit, "limit", 0, "read the first N passages only (0: all), as the programming example's -limit")
	fs.StringVar(&f.Out, "out", "output", "output folder (local, gs://, s3://)")
	fs.StringVar(&f.Generator, "generator", "BeIR/query-gen-msmarco-t5-base-v1", "T5 query generator: hub id (read from the worker's Hugging Face cache, downloaded when missing), local folder, or bucket folder copied to each worker")
	fs.StringVar(&f.Encoder, "encoder", "sentence-transformers/msmarco-distilbert-base-v3", "bi-encoder for encode: hub id, local folder or bucket folder")
	fs.IntVar(&f.PerPassage, "queries-per-passage", 5, "queries sampled per passage")
	fs.Uint64Var(&f.Seed, "seed", 42, "sampling seed: each passage's queries depend only on it and the passage's corpus position")
	fs.IntVar(&f.Batch, "batch", 8, "passages per Generate (or Encode) call within a bundle")
	fs.IntVar(&f.Block, "block", 64, "consecutive passages per shard of generate: the unit the pipeline distributes, logs and retries (encode's is -shard-rows)")
	fs.IntVar(&f.ShardRows, "shard-rows", 100000, "passages per output shard: an embeddings file (encode), a part of the BEIR files, written in parallel and then concatenated in order (generate)")
	fs.IntVar(&f.Workers, "workers", 1, "branches of the generation (or encoding) stage, each with its own model instance: on Prism, the number of bundles run at once")
	fs.BoolVar(&f.PrismSplit, "split", false, "let Prism split slow bundles further (each new bundle loads its own model); off, -workers bounds the models in memory")
	fs.StringVar(&f.Prefix, "prefix", "gen", "prefix of the BEIR files: <prefix>-queries.jsonl, <prefix>-qrels/train.tsv")
	fs.BoolVar(&f.tiny, "tiny", false, "use the tiny random-weight checkpoints of the genq checkout's testdata/fixtures (t5-tiny, distilbert-tiny) unless -generator or -encoder is given: a quick offline run")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: beam [generate|encode] [flags]\n\ngenq's flags are listed with Beam's (-runner, -experiments, ...):\n")
		fs.PrintDefaults()
	}
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", Config{}, err
	}
	switch {
	case fs.NArg() == 1 && cmd == "":
		cmd = fs.Arg(0)
	case fs.NArg() > 0:
		return "", Config{}, fmt.Errorf("one subcommand, before or after the flags; got %q", append([]string{cmd}, fs.Args()...))
	case cmd == "":
		cmd = "generate"
	}
	if cmd != "generate" && cmd != "encode" {
		return "", Config{}, fmt.Errorf("unknown subcommand %q: want generate or encode", cmd)
	}
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	c, err := f.resolve(set, stderr)
	if err != nil {
		return "", Config{}, err
	}
	return cmd, c, nil
}

// resolve turns -tiny and -corpus bundled into paths and checks the numbers.
func (f *flags) resolve(set map[string]bool, stderr io.Writer) (Config, error) {
	c := f.Config
	if f.tiny || c.Corpus == bundledName {
		root, err := checkoutRoot()
		if err != nil {
			return c, err
		}
		if c.Corpus == bundledName {
			c.Corpus = filepath.Join(root, bundledCorpus)
		}
		if f.tiny {
			if !set["generator"] {
				c.Generator = filepath.Join(root, tinyGenerator)
			}
			if !set["encoder"] {
				c.Encoder = filepath.Join(root, tinyEncoder)
			}
			fmt.Fprintln(stderr, tinyCaveat)
		}
	}
	for _, n := range []struct {
		name string
		v    int
	}{{"queries-per-passage", c.PerPassage}, {"batch", c.Batch}, {"block", c.Block}, {"shard-rows", c.ShardRows}, {"workers", c.Workers}} {
		if n.v < 1 {
			return c, fmt.Errorf("-%s is %d; it must be at least 1", n.name, n.v)
		}
	}
	if c.Limit < 0 {
		return c, fmt.Errorf("-limit is %d; use 0 for the whole corpus", c.Limit)
	}
	// A local corpus is checked here, before the pipeline starts; a bucket
	// path is for the workers to read.
	if !hasScheme(c.Corpus) {
		if files, err := filepath.Glob(c.Corpus); err != nil || len(files) == 0 {
			return c, fmt.Errorf("-corpus %s: no file matches it (a file, or a glob of shards such as 'corpus-*.jsonl.gz')", c.Corpus)
		}
	}
	return c, nil
}

// isPrism reports whether -runner names Prism (or nothing, Prism being
// beamx's default).
func isPrism() bool {
	r := strings.ToLower(*runners.Runner)
	return r == "" || r == "prism" || r == "prismrunner"
}

// disablePrismSplits adds Prism's prism_disable_sdf_split experiment:
// without it Prism splits any bundle that makes no progress for a while
// into more bundles (up to 8 at once), and each new bundle's DoFn instance
// loads a model of its own. Beam's pipeline options are process-wide
// flags, so this sets the -experiments flag.
func disablePrismSplits() {
	const exp = "prism_disable_sdf_split"
	if slices.Contains(jobopts.GetExperiments(), exp) {
		return
	}
	*jobopts.Experiments = strings.Join(append(jobopts.GetExperiments(), exp), ",")
}

// run builds the pipeline of cmd and runs it on the runner -runner names,
// then reports its counters and throughput.
func run(ctx context.Context, cmd string, c Config, stderr io.Writer) error {
	p, s := beam.NewPipelineWithRoot()
	if cmd == "encode" {
		EncodePipeline(s, c)
	} else {
		GeneratePipeline(s, c)
	}
	start := time.Now()
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return fmt.Errorf("the %s pipeline failed: %w", cmd, err)
	}
	took := time.Since(start)
	counters := countersOf(res)
	fmt.Fprintf(stderr, "%s: %d passages read, %d done, %d queries, %d dead letters, %d failures, %d bundles in %.1fs (%.2f passages/s)\n",
		cmd, counters[cRead], counters[cPassages], counters[cQueries], counters[cDeadLetters], counters[cFailures], counters[cBundles],
		took.Seconds(), float64(counters[cPassages])/took.Seconds())
	return nil
}

// countersOf sums the pipeline's genq counters over its steps.
func countersOf(res beam.PipelineResult) map[string]int64 {
	out := map[string]int64{}
	if res == nil {
		return out
	}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Key.Namespace == metricNamespace {
			out[c.Key.Name] += c.Result()
		}
	}
	return out
}
