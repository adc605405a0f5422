package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genq-go/genq/encoder"
	"github.com/genq-go/genq/loss"
)

// trainingRecord is written as training.json into the checkpoints folder
// while training and into the saved model afterwards: what the model was
// trained from, so that a checkpoint or model from other pairs or settings is
// never mistaken for this run's.
type trainingRecord struct {
	Base        string `json:"base"`
	PairsSHA256 string `json:"pairs_sha256"`
	Pairs       int    `json:"pairs"`
	Epochs      int    `json:"epochs"`
	BatchSize   int    `json:"batch_size"`
	Seed        uint64 `json:"seed"`
}

const trainingFile = "training.json"

// train fits -base on -out/generated_queries.tsv with
// MultipleNegativesRankingLoss (encoder.DefaultFitOptions, the recipe: 3
// epochs, batch 64, 10 % warm-up) and saves it as a sentence-transformers
// model into -out/programming-model. Checkpoints go to -out/checkpoints, and
// an interrupted run resumes from the last one.
func (a *app) train(ctx context.Context) error {
	tsv := a.queriesPath()
	data, err := os.ReadFile(tsv)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(data) == 0) {
		return fmt.Errorf("there are no generated queries in %s: run the generate subcommand first (with the same -out)", tsv)
	} else if err != nil {
		return err
	}
	list, err := readPairs(tsv)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	rec := trainingRecord{Base: a.base, PairsSHA256: hex.EncodeToString(sum[:]), Pairs: len(list),
		Epochs: a.epochs, BatchSize: a.trainBatch, Seed: a.seed}
	distinct := map[string]bool{}
	for _, p := range list {
		distinct[p.Passage] = true
	}
	if len(distinct) < a.trainBatch {
		return fmt.Errorf("%s holds queries for %d distinct passages, but a batch of -train-batch %d needs that many: a batch never repeats a text, as its other passages are each query's negatives; lower -train-batch to at most %d or generate for more passages (-limit)",
			tsv, len(distinct), a.trainBatch, len(distinct))
	}

	modelDir := a.trainedDir()
	steps := len(list) / a.trainBatch * a.epochs
	ckDir := filepath.Join(a.out, checkpointsDir)
	if a.overwrite {
		if err := os.RemoveAll(ckDir); err != nil {
			return err
		}
	} else {
		switch saved, err := readRecord(modelDir); {
		case err == nil && saved == rec:
			fmt.Fprintf(a.stderr, "%s is already trained on %s with these settings (-overwrite to train again)\n", modelDir, tsv)
			a.note("%d pairs, %d training steps → %s (already there)", len(list), steps, modelDir)
			return nil
		case err == nil:
			return fmt.Errorf("%s was trained from other pairs or settings (%+v); run the train subcommand with -overwrite to train it again", modelDir, saved)
		case !errors.Is(err, os.ErrNotExist):
			return err
		}
		if _, err := os.Stat(modelDir); err == nil {
			if _, err := readRecord(ckDir); err != nil {
				return fmt.Errorf("%s exists but was not written by a finished train run; pass -overwrite to replace it", modelDir)
			}
		}
		switch saved, err := readRecord(ckDir); {
		case err == nil && saved != rec:
			return fmt.Errorf("the checkpoints in %s belong to a run with other pairs or settings (%+v); pass -overwrite to start over", ckDir, saved)
		case err != nil && !errors.Is(err, os.ErrNotExist):
			return err
		}
	}
	if err := writeRecord(ckDir, rec); err != nil {
		return err
	}

	m, err := a.loadEncoder(ctx, a.base, "-base")
	if err != nil {
		return err
	}
	pairs := make([]encoder.Example, len(list))
	for i, p := range list {
		pairs[i] = encoder.Example{Texts: []string{p.Query, p.Passage}}
	}
	opts := encoder.DefaultFitOptions()
	opts.Epochs = a.epochs
	opts.BatchSize = a.trainBatch
	opts.Seed = a.seed
	opts.CheckpointDir = ckDir
	opts.CheckpointEvery = a.checkpointEvery
	opts.Resume = true // the checks above made sure the checkpoints are this run's
	if !a.quiet {
		opts.Progress = a.stderr
	}
	fmt.Fprintf(a.stderr, "training %s on %d pairs: epochs %d × %d steps of %d pairs, learning rate %g, %g%% warm-up; checkpoints in %s\n",
		a.base, len(pairs), opts.Epochs, steps/opts.Epochs, opts.BatchSize, opts.LearningRate, 100*opts.WarmupRatio, ckDir)
	_, err = m.Fit(ctx, pairs, loss.NewMNRL(), opts)
	if err != nil {
		if opts.Progress != nil {
			fmt.Fprintln(a.stderr) // an interrupted bar ends without a newline
		}
		return err
	}
	if err := m.Save(modelDir); err != nil {
		return fmt.Errorf("saving the trained model: %w", err)
	}
	if err := writeRecord(modelDir, rec); err != nil {
		return err
	}
	if err := os.RemoveAll(ckDir); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "saved the trained model to %s\n", modelDir)
	a.note("%d pairs, %d training steps → %s", len(list), steps, modelDir)
	return nil
}

// readRecord reads dir/training.json.
func readRecord(dir string) (trainingRecord, error) {
	var r trainingRecord
	b, err := os.ReadFile(filepath.Join(dir, trainingFile))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("%s: %w", filepath.Join(dir, trainingFile), err)
	}
	return r, nil
}

// writeRecord writes dir/training.json atomically.
func writeRecord(dir string, r trainingRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return saveAtomic(filepath.Join(dir, trainingFile), func(tmp string) error {
		return os.WriteFile(tmp, append(b, '\n'), 0o644)
	})
}
