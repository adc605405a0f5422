package main

import (
	"context"
	"fmt"
	"strings"
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

// eval scores each model of -models on the labelled queries of -eval over the
// whole corpus and prints MRR@k, nDCG@k and Recall@k as one markdown table.
func (a *app) eval(ctx context.Context) error {
	passages, err := loadCorpus(a.corpus)
	if err != nil {
		return err
	}
	qs, err := loadEval(a.evalFile)
	if err != nil {
		return err
	}
	relevant, err := checkEval(qs, passages, a.evalFile)
	if err != nil {
		return err
	}
	specs, err := a.evalModels()
	if err != nil {
		return err
	}
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.Query
	}
	rows := make([]metrics, len(specs))
	for i, spec := range specs {
		s, err := a.newSearcher(ctx, spec.name, spec.flag, passages)
		if err != nil {
			return err
		}
		hits, err := s.topK(ctx, texts, a.k)
		if err != nil {
			return err
		}
		for j, hs := range hits {
			ranked := make([]string, len(hs))
			for r, h := range hs {
				ranked[r] = passages[h.CorpusID].ID
			}
			m := score(ranked, relevant[j], a.k)
			rows[i].MRR += m.MRR / float64(len(qs))
			rows[i].NDCG += m.NDCG / float64(len(qs))
			rows[i].Recall += m.Recall / float64(len(qs))
		}
	}
	var t strings.Builder
	fmt.Fprintf(&t, "%d queries over %d passages:\n\n", len(qs), len(passages))
	fmt.Fprintf(&t, "| model | MRR@%d | nDCG@%d | Recall@%d |\n|:--|--:|--:|--:|\n", a.k, a.k, a.k)
	for i, spec := range specs {
		fmt.Fprintf(&t, "| %s | %.4f | %.4f | %.4f |\n", spec.label, rows[i].MRR, rows[i].NDCG, rows[i].Recall)
	}
	if a.tiny {
		fmt.Fprintf(&t, "\n%s\n", tinyCaveat)
	}
	a.table = t.String()
	a.note("%d models on %d labelled queries over %d passages", len(specs), len(qs), len(passages))
	fmt.Fprintf(a.stdout, "\n%s", a.table)
	return nil
}
