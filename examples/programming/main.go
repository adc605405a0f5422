// Command programming runs the GenQ recipe, then GPL, end to end on a corpus of passages
// about programming technologies, as sentence-transformers'
// examples/unsupervised_learning/query_generation does in Python:
//
//  1. generate: a T5 query generator (BeIR/query-gen-msmarco-t5-base-v1)
//     writes 5 sampled queries per paragraph into generated_queries.tsv;
//  2. train: distilbert-base-uncased with mean pooling is fitted on the
//     (query, paragraph) pairs with MultipleNegativesRankingLoss and saved as
//     a sentence-transformers model;
//  3. gpl: GPL (UKPLab/gpl) on the same queries: hard negatives mined with
//     two retrievers, labelled with a cross-encoder's logit margins
//     (encoder.GPLExamples), the base model fitted with MarginMSE;
//  4. search: the paragraphs are embedded once and queries are answered by
//     cosine similarity;
//
// and eval measures MRR@10, nDCG@10 and Recall@10 on hand-labelled queries
// (or MRR@10, nDCG@10 and Recall@100 on a BEIR dataset, -beir, as BEIR
// computes them), so the gain of GenQ and GPL over the untrained base model
// is one command. generate -format beir writes BEIR's GenQ layout.
//
// Run it with
//
//	go run ./examples/programming            # everything: generate, train, eval, searches
//	go run ./examples/programming -h         # subcommands and flags
//
// Every step resumes where an interrupted run (Ctrl-C or a crash) stopped.
// The first Ctrl-C stops a run at its next check; a second one ends the
// program at once.
//
// # Crashes and damaged files
//
// What a step has written is on disk (synced) before the step counts as
// done, so a power loss loses at most the work since then: generate syncs
// each batch of queries; train writes checkpoints as encoder.Fit does, keeps
// them until the saved model reads back and embeds as the trained model
// does, and only then removes them; the digest of the model's files,
// recorded in its training.json, lets a later run detect a damaged model. A generated_queries.tsv whose last line
// lacks its newline was cut short while being written: train refuses it and
// generate completes it. See RELIABILITY.md at the repository root.
//
// The readers follow genq's rule: no allocation is sized by a number read
// from a file before that number is checked against the file's size or a
// documented cap. A corpus or eval line may be at most 64 MiB; the TSV is
// read whole, as large as the file is.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := interruptible(context.Background())
	defer stop()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	err := a.run(ctx, os.Args[1:])
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "interrupted; run the same command again to continue where it stopped")
		os.Exit(130)
	default:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// interruptible returns a context that the first SIGINT (Ctrl-C) or SIGTERM
// cancels, so that the run stops at its next check and can be resumed. The
// handler is removed before the context is canceled: a second signal finds
// Go's default action and ends the program at once, even when the run is
// stuck in a call that ignores its context.
func interruptible(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
		case <-ctx.Done():
		}
		signal.Stop(ch)
		cancel()
	}()
	return ctx, cancel
}

// errUsage reports a command line that could not be parsed; the usage text
// has already been printed.
var errUsage = errors.New("usage")

// app is one run of the program: its settings, where it talks, and hooks for
// the tests.
type app struct {
	config
	stdin          io.Reader
	stdout, stderr io.Writer

	// afterBatch, when set, is called after each batch of generated queries
	// is on disk, with the number of passages done (the tests interrupt a
	// run with it).
	afterBatch func(done int)
	// afterSave, when set, is called by train once the model is saved,
	// before it is verified (the tests damage it there).
	afterSave func(dir string)

	// facts, reports and table collect what the steps did, for the
	// report after each step and all's summary.
	facts   []string
	reports []stepReport
	table   string
}

// commands are the subcommands, in the order the usage lists them.
var commands = []struct {
	name, summary string
	run           func(*app, context.Context) error
}{
	{"all", "generate → train → gpl → eval (base vs GenQ vs GPL) → example searches (the default)", (*app).all},
	{"generate", "write generated_queries.tsv (-format beir: BEIR's GenQ layout): sampled queries for every passage", (*app).generate},
	{"train", "fit the base model on generated_queries.tsv with MultipleNegativesRankingLoss", (*app).train},
	{"gpl", "GPL: mine hard negatives, label them with a cross-encoder, fit the base model with MarginMSE", (*app).gpl},
	{"search", "answer queries (-q, else lines from stdin) with the best passages", (*app).search},
	{"eval", "MRR@k, nDCG@k and Recall@k of each model on the labelled queries (-beir: a BEIR dataset, Recall@100)", (*app).eval},
}

// run parses args (a subcommand, then its flags) and runs the subcommand.
func (a *app) run(ctx context.Context, args []string) error {
	name := "all"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	if name == "help" {
		a.usage()
		return nil
	}
	for _, c := range commands {
		if c.name != name {
			continue
		}
		fs := a.flags(name)
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return errUsage
		}
		if fs.NArg() > 0 {
			fmt.Fprintf(a.stderr, "%s: unexpected argument %q (flags come after the subcommand; quote a query given with -q)\n", name, fs.Arg(0))
			return errUsage
		}
		if err := validate(fs); err != nil {
			fmt.Fprintf(a.stderr, "%s: %v\n", name, err)
			return errUsage
		}
		if a.tiny {
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if err := a.useTiny(set); err != nil {
				return err
			}
		}
		if name == "all" {
			return c.run(a, ctx)
		}
		return a.timed(name, func() error { return c.run(a, ctx) })
	}
	fmt.Fprintf(a.stderr, "unknown subcommand %q\n\n", name)
	a.usage()
	return errUsage
}

// usage prints the overview: subcommands and where the files go.
func (a *app) usage() {
	w := a.stderr
	fmt.Fprint(w, `GenQ on a corpus of programming paragraphs: generate queries with T5, train a
bi-encoder on them, search and evaluate.

usage: programming [subcommand] [flags]

subcommands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Files under -out (default output/): generated_queries.tsv, checkpoints/ (while
training), programming-model/ (the GenQ model), gpl_training_data.tsv (GPL's
labelled triples), gpl-checkpoints/, gpl-model/ (the GPL model), cache/
(corpus embeddings); with generate -format beir, corpus.jsonl,
gen-queries.jsonl and gen-qrels/train.tsv (BEIR's GenQ layout).
Every step resumes an interrupted run; -overwrite starts it over.
-tiny runs on the tiny random-weight checkpoints of the repository's
testdata/fixtures instead of the hub models: a quick offline check that every
step works, not of quality (their queries and scores are meaningless).
Run "programming <subcommand> -h" for its flags.
`)
}
