package main

import (
	"context"
	"fmt"
)

// exampleQueries are searched at the end of the all subcommand when no -q is
// given.
var exampleQueries = []string{
	"how do I avoid memory bugs without a garbage collector",
	"library for drawing plots and charts",
	"which database stores JSON documents",
}

// all runs the whole recipe: generate, train (GenQ), gpl, eval of the base
// model against the GenQ and GPL ones, and a few searches with the trained model. Steps already
// done (a complete TSV, a model trained on it) are skipped, and interrupted
// ones resume.
func (a *app) all(ctx context.Context) error {
	steps := []struct {
		name string
		run  func(context.Context) error
	}{{"generate", a.generate}, {"train", a.train}, {"gpl", a.gpl}, {"eval", a.eval}, {"search", a.exampleSearches}}
	for i, s := range steps {
		fmt.Fprintf(a.stderr, "\n== step %d/%d: %s\n", i+1, len(steps), s.name)
		if err := a.timed(s.name, func() error { return s.run(ctx) }); err != nil {
			return err
		}
	}
	a.summarize()
	return nil
}

// exampleSearches answers -q, or else a few example queries, with the
// trained model.
func (a *app) exampleSearches(ctx context.Context) error {
	passages, err := loadCorpus(a.corpus)
	if err != nil {
		return err
	}
	s, err := a.newSearcher(ctx, a.trainedDir(), "-out", passages)
	if err != nil {
		return err
	}
	queries := []string(a.queries)
	if len(queries) == 0 {
		queries = exampleQueries
	}
	k := a.k
	if len(a.queries) == 0 {
		k = min(k, 3) // the examples: a glance, not a ranking
	}
	a.note("%d queries answered with the top %d of %d passages by %s", len(queries), k, len(passages), a.trainedDir())
	return a.answer(ctx, s, queries, k)
}
