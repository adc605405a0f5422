package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/genq-go/genq/t5"
	"github.com/schollz/progressbar/v3"
)

// generate writes -queries-per-passage sampled queries for each passage into
// -out/generated_queries.tsv, one "query<TAB>passage" line each, as the
// original script does (generate(max_length=64, do_sample=True, top_p=0.95)
// with inputs truncated to 300 tokens).
//
// Lines are appended and synced one batch of passages at a time; a run that
// was interrupted (Ctrl-C or a crash) resumes after the last complete
// passage, so no line is lost or written twice. The same seed gives the same
// file whether or not the run was interrupted, and whatever the batch size.
func (a *app) generate(ctx context.Context) error {
	passages, err := loadCorpus(a.corpus)
	if err != nil {
		return err
	}
	if a.limit > 0 && a.limit < len(passages) {
		passages = passages[:a.limit]
	}
	if err := os.MkdirAll(a.out, 0o755); err != nil {
		return err
	}
	path := a.queriesPath()
	if a.overwrite {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	done, f, err := resumeTSV(path, passages, a.perPassage)
	if err != nil {
		return err
	}
	defer f.Close()
	if done == len(passages) {
		fmt.Fprintf(a.stderr, "%s already holds %d queries for each of the %d passages (-overwrite to generate them again)\n", path, a.perPassage, done)
		a.note("%d passages, %d queries → %s (already there)", done, done*a.perPassage, path)
		return nil
	}
	if done > 0 {
		fmt.Fprintf(a.stderr, "resuming %s after passage %d of %d\n", path, done, len(passages))
	}

	gen, err := a.loadGenerator(ctx, a.generator)
	if err != nil {
		if done == 0 {
			f.Close()
			os.Remove(path) // leave no empty file that looks like a finished run
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
	for start := done; start < len(passages); {
		// Each passage samples from its own stream, numbered by its
		// index in the corpus (FirstIndex), so a resumed run or another
		// -batch draws exactly the queries of an uninterrupted run.
		end := min((start/a.batch+1)*a.batch, len(passages))
		texts := make([]string, end-start)
		for i, p := range passages[start:end] {
			texts[i] = p.Text
		}
		opts.FirstIndex = start
		queries, err := gen.Generate(ctx, texts, opts)
		if err != nil {
			return fmt.Errorf("generating queries for passages %d–%d: %w", start+1, end, err)
		}
		var b strings.Builder
		for i, qs := range queries {
			if len(qs) != a.perPassage {
				return fmt.Errorf("the generator returned %d queries for passage %d, want %d", len(qs), start+i+1, a.perPassage)
			}
			para := clean(passages[start+i].Text)
			for _, q := range qs {
				b.WriteString(clean(q))
				b.WriteByte('\t')
				b.WriteString(para)
				b.WriteByte('\n')
			}
		}
		if _, err := f.WriteString(b.String()); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		start = end
		if bar != nil {
			_ = bar.Set(end)
		}
		if a.afterBatch != nil {
			a.afterBatch(end)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(a.stderr, "wrote %d queries to %s\n", len(passages)*a.perPassage, path)
	a.note("%d passages, %d queries (%d new) → %s", len(passages), len(passages)*a.perPassage, (len(passages)-done)*a.perPassage, path)
	return nil
}
