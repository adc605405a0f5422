package main

import (
	"context"
	"fmt"
	"os"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
	"github.com/genq-go/genq/t5"
	"github.com/schollz/progressbar/v3"
)

// generate writes -queries-per-passage sampled queries for each passage into
// -out/generated_queries.tsv, one "query<TAB>passage" line each, as the
// original script does (generate(max_length=64, do_sample=True, top_p=0.95)
// with inputs truncated to 300 tokens); with -format beir, into the layout
// BEIR's GenQ writes (beirOut).
//
// Lines are appended and synced one batch of passages at a time; a run that
// was interrupted (Ctrl-C or a crash) resumes after the last complete
// passage, so no line is lost or written twice. The same seed gives the same
// files whether or not the run was interrupted, and whatever the batch size:
// each passage samples from the stream of its Position in the corpus.
func (a *app) generate(ctx context.Context) error {
	all, err := loadCorpus(a.corpus)
	if err != nil {
		return err
	}
	passages := all
	if a.limit > 0 && a.limit < len(passages) {
		passages = passages[:a.limit]
	}
	if err := os.MkdirAll(a.out, 0o755); err != nil {
		return err
	}
	out, done, err := a.openQueriesOut(all, passages)
	if err != nil {
		return err
	}
	defer out.close()
	if done == len(passages) {
		fmt.Fprintf(a.stderr, "%s already holds the queries of all %d passages (-overwrite to generate them again)\n", out.path(), done)
		a.note("%d passages, %d queries → %s (already there)", done, out.total(), out.path())
		return nil
	}
	if done > 0 {
		fmt.Fprintf(a.stderr, "resuming %s after passage %d of %d\n", out.path(), done, len(passages))
	}

	gen, err := a.loadGenerator(ctx, a.generator)
	if err != nil {
		if done == 0 {
			out.abandon() // leave no empty file that looks like a finished run
		}
		return err
	}
	opts := t5.DefaultGenerateOptions()
	opts.NumReturnSequences = a.perPassage
	opts.BatchSize = a.batch
	opts.Seed = a.seed
	fmt.Fprintf(a.stderr, "generating %d queries for each of %d passages with %s (top_p %g, top_k %d, max_length %d)\n",
		a.perPassage, len(passages)-done, a.generator, opts.TopP, opts.TopK, opts.MaxLength)

	var bar *progressbar.ProgressBar
	if !a.quiet {
		bar = progressbar.NewOptions(len(passages), progressbar.OptionSetWriter(a.stderr),
			progressbar.OptionSetDescription("Generating"), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("passages"),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.stderr) }))
		_ = bar.Set(done)
		defer bar.Close()
	}
	written := 0
	for start := done; start < len(passages); {
		// Each passage samples from its own stream, numbered by its
		// index in the corpus (FirstIndex), so a resumed run or another
		// -batch draws exactly the queries of an uninterrupted run.
		end := min((start/a.batch+1)*a.batch, len(passages))
		texts := make([]string, end-start)
		for i, p := range passages[start:end] {
			texts[i] = p.Text
		}
		opts.FirstIndex = passages[start].Position
		queries, err := gen.Generate(ctx, texts, opts)
		if err != nil {
			return fmt.Errorf("generating queries for passages %d–%d: %w", start+1, end, err)
		}
		for i, qs := range queries {
			if len(qs) != a.perPassage {
				return fmt.Errorf("the generator returned %d queries for passage %d, want %d", len(qs), start+i+1, a.perPassage)
			}
		}
		n, err := out.add(passages[start:end], queries)
		if err != nil {
			return err
		}
		written += n
		start = end
		if bar != nil {
			_ = bar.Set(end)
		}
		if a.afterBatch != nil {
			a.afterBatch(end)
		}
	}
	if err := out.close(); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "wrote the queries of %d passages to %s\n", len(passages), out.path())
	a.note("%d passages, %d queries (%d new) → %s", len(passages), out.total(), written, out.path())
	return nil
}

// queriesOut is where generate appends the queries of each batch of
// passages: generated_queries.tsv (tsvOut) or BEIR's layout (beirOut).
type queriesOut interface {
	// add appends the queries of passages (queries[i] those of
	// passages[i]), syncs them, and returns how many lines it wrote.
	add(passages []corpus.Passage, queries [][]string) (int, error)
	// path names the file(s) for messages.
	path() string
	// total is the number of lines the file holds (the queries file of
	// BEIR's layout).
	total() int
	close() error
	// abandon closes the output and removes the files it created.
	abandon()
}

// openQueriesOut opens -format's output under -out for appending the
// queries of passages (the first of the corpus all) after those already
// done; -overwrite discards them first.
func (a *app) openQueriesOut(all, passages []corpus.Passage) (queriesOut, int, error) {
	if a.format == "beir" {
		if a.overwrite {
			for _, p := range []string{beir.QueriesPath(a.out, a.beirPrefix), beir.QrelsPath(a.out, a.beirPrefix, beir.GenSplit)} {
				if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
					return nil, 0, err
				}
			}
		}
		if _, err := writeBEIRCorpus(a.out, a.corpus, all, a.overwrite); err != nil {
			return nil, 0, err
		}
		return resumeBEIR(a.out, a.beirPrefix, passages, a.perPassage)
	}
	path := a.queriesPath()
	if a.overwrite {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return nil, 0, err
		}
	}
	done, f, err := resumeTSV(path, passages, a.perPassage)
	if err != nil {
		return nil, 0, err
	}
	return &tsvOut{f: f, created: done == 0, lines: done * a.perPassage}, done, nil
}
