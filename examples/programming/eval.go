package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/genq-go/genq/examples/internal/beir"
	"github.com/genq-go/genq/examples/internal/corpus"
)

// modelSpec is one model eval compares: its label in the table, the name to
// load and the flag it came from.
type modelSpec struct{ label, name, flag string }

// defaultModels is eval's -models: "gpl" is left out while there is no GPL
// model.
const defaultModels = "base,trained,gpl"

// evalModels expands -models: "base" is -base, "trained" is the model train
// saved, "gpl" the one gpl saved; anything else is a hub id or a folder.
func (a *app) evalModels() ([]modelSpec, error) {
	var out []modelSpec
	for _, f := range strings.Split(a.models, ",") {
		switch f = strings.TrimSpace(f); f {
		case "":
		case "base":
			out = append(out, modelSpec{"base: " + a.base, a.base, "-base"})
		case "trained":
			out = append(out, modelSpec{"GenQ: " + a.trainedDir(), a.trainedDir(), "-models"})
		case "gpl":
			if _, err := readRecord(a.gplDir()); err != nil && a.models == defaultModels {
				fmt.Fprintf(a.stderr, "no GPL model in %s yet: its row is left out (run the gpl subcommand to add it)\n", a.gplDir())
				continue
			}
			out = append(out, modelSpec{"GPL: " + a.gplDir(), a.gplDir(), "-models"})
		default:
			out = append(out, modelSpec{f, f, "-models"})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-models names no model; use e.g. -models base,trained")
	}
	return out, nil
}

// evalSet is what eval scores the models on: the passages to search, the
// queries and their graded relevant passages, the metrics' cutoffs, and
// whether a hit with the query's own id is dropped (BEIR's
// ignore_identical_ids).
type evalSet struct {
	passages        []corpus.Passage
	queries         []beir.Query
	qrels           map[string]map[string]int
	cut             beir.Cutoffs
	ignoreIdentical bool
}

// bundledEvalSet is -corpus with the labelled queries of -eval, every
// metric at -k, relevance binary.
func (a *app) bundledEvalSet() (*evalSet, error) {
	passages, err := loadCorpus(a.corpus)
	if err != nil {
		return nil, err
	}
	qs, err := loadEval(a.evalFile)
	if err != nil {
		return nil, err
	}
	relevant, err := checkEval(qs, passages, a.evalFile)
	if err != nil {
		return nil, err
	}
	set := &evalSet{passages: passages, qrels: map[string]map[string]int{}, cut: beir.Cutoffs{NDCG: a.k, MRR: a.k, Recall: a.k}}
	for i, q := range qs {
		id := strconv.Itoa(i + 1)
		set.queries = append(set.queries, beir.Query{ID: id, Text: q.Query})
		set.qrels[id] = relevant[i]
	}
	return set, nil
}

// beirEvalSet is the BEIR dataset in -beir: its corpus, the queries of
// qrels/<-beir-split>.tsv, nDCG and MRR at -k and Recall at 100 (BEIR's
// nDCG@10, MRR@10, Recall@100 by default), identical ids ignored as BEIR
// does by default.
func (a *app) beirEvalSet() (*evalSet, error) {
	if a.corpus != bundledName || a.evalFile != bundledName {
		return nil, fmt.Errorf("-beir %s brings its own corpus and queries: leave out -corpus and -eval", a.beirDir)
	}
	ds, err := beir.Load(a.beirDir, a.beirSplit)
	if err != nil {
		return nil, err
	}
	set := &evalSet{queries: ds.Queries, qrels: ds.Qrels, ignoreIdentical: true,
		cut: beir.Cutoffs{NDCG: a.k, MRR: a.k, Recall: beir.DefaultCutoffs.Recall}}
	have := make(map[string]bool, len(ds.Corpus))
	for i, d := range ds.Corpus {
		set.passages = append(set.passages, corpus.FromDoc(d, i))
		have[d.ID] = true
	}
	missing := 0
	for _, docs := range ds.Qrels {
		for id := range docs {
			if !have[id] {
				missing++
			}
		}
	}
	if missing > 0 {
		fmt.Fprintf(a.stderr, "%d judgements of qrels/%s.tsv name documents corpus.jsonl lacks: they are never retrieved, and count in the ideal ranking (as in BEIR)\n", missing, a.beirSplit)
	}
	return set, nil
}

// eval scores each model of -models on the labelled queries — those of
// -eval over -corpus, or a BEIR dataset (-beir) — and prints MRR, nDCG and
// Recall as one markdown table, computed as BEIR's EvaluateRetrieval does
// (package examples/internal/beir).
func (a *app) eval(ctx context.Context) error {
	newSet := a.bundledEvalSet
	if a.beirDir != "" {
		newSet = a.beirEvalSet
	}
	set, err := newSet()
	if err != nil {
		return err
	}
	specs, err := a.evalModels()
	if err != nil {
		return err
	}
	texts := make([]string, len(set.queries))
	for i, q := range set.queries {
		texts[i] = q.Text
	}
	rows := make([]beir.Scores, len(specs))
	for i, spec := range specs {
		s, err := a.newSearcher(ctx, spec.name, spec.flag, set.passages)
		if err != nil {
			return err
		}
		hits, err := s.topK(ctx, texts, set.cut.RetrieveK())
		if err != nil {
			return err
		}
		results := make(map[string][]beir.Hit, len(hits))
		for j, hs := range hits {
			rs := make([]beir.Hit, len(hs))
			for r, h := range hs {
				rs[r] = beir.Hit{ID: set.passages[h.CorpusID].ID, Score: float64(h.Score)}
			}
			results[set.queries[j].ID] = rs
		}
		rows[i] = beir.Evaluate(set.qrels, results, set.cut, set.ignoreIdentical)
	}
	var t strings.Builder
	fmt.Fprintf(&t, "%d queries over %d passages:\n\n", len(set.queries), len(set.passages))
	fmt.Fprintf(&t, "| model | MRR@%d | nDCG@%d | Recall@%d |\n|:--|--:|--:|--:|\n", set.cut.MRR, set.cut.NDCG, set.cut.Recall)
	for i, spec := range specs {
		fmt.Fprintf(&t, "| %s | %.4f | %.4f | %.4f |\n", spec.label, rows[i].MRR, rows[i].NDCG, rows[i].Recall)
	}
	if a.tiny {
		fmt.Fprintf(&t, "\n%s\n", tinyCaveat)
	}
	a.table = t.String()
	a.note("%d models on %d labelled queries over %d passages", len(specs), len(set.queries), len(set.passages))
	fmt.Fprintf(a.stdout, "\n%s", a.table)
	return nil
}
