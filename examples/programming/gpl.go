package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/loss"
	"github.com/schollz/progressbar/v3"
)

// Names of GPL's files under -out.
const (
	gplDataFile       = "gpl_training_data.tsv"
	gplRecordFile     = "gpl_training_data.json"
	gplModelFolder    = "gpl-model"
	gplCheckpointsDir = "gpl-checkpoints"
)

// gplRecord identifies the labelled data in gpl_training_data.tsv: what it
// was made from, with which settings, and the digest of the file, so that
// a file from other inputs, or a damaged one, is labelled again.
type gplRecord struct {
	QueriesSHA256 string `json:"queries_sha256"`
	CorpusSHA256  string `json:"corpus_sha256"`
	Retrievers    string `json:"retrievers"`
	CrossEncoder  string `json:"cross_encoder"`
	Steps         int    `json:"steps"`
	BatchSize     int    `json:"batch_size"`
	Negatives     int    `json:"negatives"`
	MaxSeqLength  int    `json:"max_seq_length"`
	Seed          uint64 `json:"seed"`
	DataSHA256    string `json:"data_sha256,omitempty"`
}

// gplDir is where the gpl subcommand saves its model: -out/gpl-model.
func (c *config) gplDir() string { return filepath.Join(c.out, gplModelFolder) }

// gpl runs GPL (Generative Pseudo Labeling) on the queries generate wrote:
// hard negatives mined with -retrievers, each (query, positive, negative)
// labelled with -cross-encoder's logit margin (encoder.GPLExamples, into
// -out/gpl_training_data.tsv), then -base fitted on them with MarginMSE and
// saved into -out/gpl-model. Labelled data made from the same inputs and
// settings is reused, and an interrupted training resumes from its
// checkpoints in -out/gpl-checkpoints, as train's do.
func (a *app) gpl(ctx context.Context) error {
	list, tsvSHA, err := a.readPairs()
	if err != nil {
		return err
	}
	passages, err := loadCorpus(a.corpus)
	if err != nil {
		return err
	}
	corpus := make([]string, len(passages))
	index := make(map[string]int, len(passages))
	h := sha256.New()
	for i, p := range passages {
		corpus[i] = clean(p.Text)
		if _, dup := index[corpus[i]]; !dup {
			index[corpus[i]] = i
		}
		fmt.Fprintf(h, "%q\n", corpus[i])
	}
	queries := make([]encoder.GeneratedQuery, 0, len(list))
	for i, p := range list {
		id, ok := index[p.Passage]
		if !ok {
			return fmt.Errorf("line %d of %s has a passage that is not in -corpus %s (%.60q…): the queries were generated from another corpus; run generate again with -overwrite, or pass the corpus they came from", i+1, a.queriesPath(), a.corpus, p.Passage)
		}
		if p.Query != "" { // an empty query labels nothing; GPLExamples refuses it
			queries = append(queries, encoder.GeneratedQuery{Query: p.Query, PassageID: id})
		}
	}
	if n := len(list) - len(queries); n > 0 {
		fmt.Fprintf(a.stderr, "leaving out the %d empty queries of %s\n", n, a.queriesPath())
	}
	if len(queries) < a.gplBatch {
		return fmt.Errorf("%s holds %d non-empty queries, fewer than a GPL batch of -gpl-batch %d; lower -gpl-batch or generate more queries", a.queriesPath(), len(queries), a.gplBatch)
	}
	if a.negatives > len(corpus)-1 {
		fmt.Fprintf(a.stderr, "the corpus has %d passages: each retriever mines at most %d negatives per query, not -negatives %d (GPL clamps the same way)\n", len(corpus), len(corpus)-1, a.negatives)
	}
	steps := a.gplSteps
	if steps == 0 {
		steps = max(1, 3*len(queries)/a.gplBatch)
	}
	opts := encoder.DefaultGPLOptions()
	opts.Steps, opts.BatchSize, opts.Negatives, opts.Seed = steps, a.gplBatch, a.negatives, a.seed
	want := gplRecord{QueriesSHA256: tsvSHA, CorpusSHA256: hex.EncodeToString(h.Sum(nil)),
		Retrievers: a.retrievers, CrossEncoder: a.crossEncoder, Steps: steps, BatchSize: a.gplBatch,
		Negatives: a.negatives, MaxSeqLength: opts.MaxSeqLength, Seed: a.seed}
	fmt.Fprintf(a.stderr, "GPL itself generates %d queries per passage for a corpus of %d (GPLQueriesPerPassage) and trains %d steps; this run uses the %d queries of %s and %d steps\n",
		encoder.GPLQueriesPerPassage(len(corpus)), len(corpus), encoder.DefaultGPLOptions().Steps, len(queries), a.queriesPath(), steps)
	examples, dataSHA, err := a.gplData(ctx, want, queries, corpus, opts)
	if err != nil {
		return err
	}
	rec := trainingRecord{Base: a.base, PairsSHA256: dataSHA, Pairs: len(examples), Epochs: 1,
		BatchSize: a.gplBatch, Seed: a.seed}
	fit := encoder.DefaultFitOptions()
	fit.Epochs, fit.BatchSize = 1, a.gplBatch
	// GPL warms up for 1000 of its 140,000 steps; a short run warms up for
	// a tenth of its steps instead.
	fit.WarmupSteps = max(1, min(1000, steps/10))
	return a.fitAndSave(ctx, fitJob{cmd: "gpl", data: filepath.Join(a.out, gplDataFile), examples: examples,
		loss: loss.NewMarginMSE(), rec: rec, opts: fit, modelDir: a.gplDir(), ckDir: filepath.Join(a.out, gplCheckpointsDir),
		what: fmt.Sprintf("%d labelled triples", len(examples))})
}

// readPairs reads -out/generated_queries.tsv and returns its pairs and
// SHA-256.
func (a *app) readPairs() ([]pair, string, error) {
	tsv := a.queriesPath()
	data, err := os.ReadFile(tsv)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(data) == 0) {
		return nil, "", fmt.Errorf("there are no generated queries in %s: run the generate subcommand first (with the same -out)", tsv)
	} else if err != nil {
		return nil, "", err
	}
	list, err := parsePairs(data, tsv)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return list, hex.EncodeToString(sum[:]), nil
}

// gplData returns the labelled examples and the SHA-256 of their file:
// those of -out/gpl_training_data.tsv when its record matches want and the
// file its digest, else new ones from encoder.GPLExamples, written there.
func (a *app) gplData(ctx context.Context, want gplRecord, queries []encoder.GeneratedQuery, corpus []string, opts encoder.GPLOptions) ([]encoder.Example, string, error) {
	path, recPath := filepath.Join(a.out, gplDataFile), filepath.Join(a.out, gplRecordFile)
	if !a.overwrite {
		if ex, sha, err := readGPLData(path, recPath, want); err == nil {
			fmt.Fprintf(a.stderr, "%s already holds the %d labelled triples of these queries and settings (-overwrite to label again)\n", path, len(ex))
			return ex, sha, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(a.stderr, "labelling again: %v\n", err)
		}
	}
	if err := removeSynced(recPath); err != nil {
		return nil, "", err
	}
	names := strings.Split(a.retrievers, ",")
	rets := make([]*encoder.Model, len(names))
	for i, name := range names {
		m, err := a.loadEncoder(ctx, strings.TrimSpace(name), "-retrievers")
		if err != nil {
			return nil, "", err
		}
		rets[i] = m
	}
	if err := checkKind(a.crossEncoder, "-cross-encoder", kindCrossEncoder); err != nil {
		return nil, "", err
	}
	ce, err := encoder.LoadCrossEncoder(ctx, a.crossEncoder, encoder.CrossEncoderOptions{Hub: a.hubOptions()})
	if err != nil {
		return nil, "", fmt.Errorf("loading the cross-encoder %q (-cross-encoder): %w\n%s", a.crossEncoder, err, modelHint(a.crossEncoder, "-cross-encoder", err))
	}
	fmt.Fprintf(a.stderr, "GPL: mining %d hard negatives per query with %s, labelling %d × %d triples with %s\n",
		opts.Negatives, a.retrievers, opts.Steps, opts.BatchSize, a.crossEncoder)
	if !a.quiet {
		var bar *progressbar.ProgressBar
		stage := ""
		opts.Progress = func(s string, done, total int) {
			if s != stage {
				if bar != nil {
					_ = bar.Finish()
					fmt.Fprintln(a.stderr)
				}
				stage = s
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(a.stderr),
					progressbar.OptionSetDescription("GPL "+s), progressbar.OptionShowCount())
			}
			_ = bar.Set(done)
		}
		defer func() {
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(a.stderr)
			}
		}()
	}
	ex, err := encoder.GPLExamples(ctx, queries, corpus, rets, ce, opts)
	if err != nil {
		return nil, "", err
	}
	var b bytes.Buffer
	for _, e := range ex {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", e.Texts[0], e.Texts[1], e.Texts[2], strconv.FormatFloat(e.Labels[0], 'g', -1, 64))
	}
	if err := saveAtomic(path, func(tmp string) error { return os.WriteFile(tmp, b.Bytes(), 0o644) }); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(b.Bytes())
	want.DataSHA256 = hex.EncodeToString(sum[:])
	js, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		return nil, "", err
	}
	if err := saveAtomic(recPath, func(tmp string) error { return os.WriteFile(tmp, append(js, '\n'), 0o644) }); err != nil {
		return nil, "", err
	}
	a.note("%d queries, %d labelled triples → %s", len(queries), len(ex), path)
	return ex, want.DataSHA256, nil
}

// readGPLData reads the labelled triples of path if its record at recPath
// matches want and the file its digest; an error wrapping os.ErrNotExist
// means there is none.
func readGPLData(path, recPath string, want gplRecord) ([]encoder.Example, string, error) {
	js, err := os.ReadFile(recPath)
	if err != nil {
		return nil, "", err
	}
	var got gplRecord
	if err := json.Unmarshal(js, &got); err != nil {
		return nil, "", fmt.Errorf("%s: %w", recPath, err)
	}
	sha := got.DataSHA256
	got.DataSHA256 = ""
	if got != want {
		return nil, "", fmt.Errorf("%s was labelled from other queries or settings (%+v)", path, got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha {
		return nil, "", fmt.Errorf("%s does not have the SHA-256 %s recorded in %s: it is damaged", path, sha, recPath)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	ex := make([]encoder.Example, len(lines))
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 4 {
			return nil, "", fmt.Errorf("%s:%d: want query, positive, negative and margin separated by tabs", path, i+1)
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil {
			return nil, "", fmt.Errorf("%s:%d: margin: %w", path, i+1, err)
		}
		ex[i] = encoder.Example{Texts: f[:3], Labels: []float64{v}}
	}
	return ex, sha, nil
}
