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
	"slices"

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
	// ModelSHA256, in the saved model's copy only, is the digest of the
	// model's files (modelDigest) once they were verified: a later run
	// trusts the model only if its files still have it.
	ModelSHA256 string `json:"model_sha256,omitempty"`
}

// run is the record without the model's digest: what identifies the run.
func (r trainingRecord) run() trainingRecord {
	r.ModelSHA256 = ""
	return r
}

const trainingFile = "training.json"

// train fits -base on -out/generated_queries.tsv with
// MultipleNegativesRankingLoss (encoder.DefaultFitOptions, the recipe: 3
// epochs, batch 64, 10 % warm-up) and saves it as a sentence-transformers
// model into -out/programming-model. Checkpoints go to -out/checkpoints, and
// an interrupted run resumes from the last one.
func (a *app) train(ctx context.Context) error {
	tsv := a.queriesPath()
	list, sum, err := a.readPairs()
	if err != nil {
		return err
	}
	rec := trainingRecord{Base: a.base, PairsSHA256: sum, Pairs: len(list),
		Epochs: a.epochs, BatchSize: a.trainBatch, Seed: a.seed}
	distinct := map[string]bool{}
	for _, p := range list {
		distinct[p.Passage] = true
	}
	if len(distinct) < a.trainBatch {
		return fmt.Errorf("%s holds queries for %d distinct passages, but a batch of -train-batch %d needs that many: a batch never repeats a text, as its other passages are each query's negatives; lower -train-batch to at most %d or generate for more passages (-limit)",
			tsv, len(distinct), a.trainBatch, len(distinct))
	}

	pairs := make([]encoder.Example, len(list))
	for i, p := range list {
		pairs[i] = encoder.Example{Texts: []string{p.Query, p.Passage}}
	}
	opts := encoder.DefaultFitOptions()
	opts.Epochs = a.epochs
	opts.BatchSize = a.trainBatch
	return a.fitAndSave(ctx, fitJob{cmd: "train", data: tsv, examples: pairs, loss: loss.NewMNRL(), rec: rec,
		opts: opts, modelDir: a.trainedDir(), ckDir: filepath.Join(a.out, checkpointsDir),
		what: fmt.Sprintf("%d pairs", len(list))})
}

// fitJob is one training run of fitAndSave: the examples, made from the
// file data, the loss, the record identifying the run, the fit options
// (epochs, batch size, warm-up: the rest fitAndSave sets), where the
// checkpoints and the model go, and the subcommand (train or gpl) the
// messages tell to run.
type fitJob struct {
	cmd, data, what string
	examples        []encoder.Example
	loss            loss.Loss
	rec             trainingRecord
	opts            encoder.FitOptions
	modelDir, ckDir string
}

// fitAndSave fits -base on the job's examples and saves it as a
// sentence-transformers model into job.modelDir. Checkpoints go to
// job.ckDir, and an interrupted run resumes from the last one; a model
// already trained by the same run is kept.
func (a *app) fitAndSave(ctx context.Context, job fitJob) error {
	rec, list, tsv := job.rec, job.examples, job.data
	modelDir, ckDir := job.modelDir, job.ckDir
	steps := len(list) / job.opts.BatchSize * job.opts.Epochs
	// What a crash while removing the checkpoints of a finished run left.
	if err := os.RemoveAll(retiredPath(ckDir)); err != nil {
		return err
	}
	if a.overwrite {
		if err := os.RemoveAll(ckDir); err != nil {
			return err
		}
	} else {
		saved, err := readRecord(modelDir)
		if err == nil && saved.run() == rec {
			if err = a.checkSaved(ctx, modelDir, saved.ModelSHA256); err == nil {
				fmt.Fprintf(a.stderr, "%s is already trained on %s with these settings (-overwrite to train again)\n", modelDir, tsv)
				a.note("%s, %d training steps → %s (already there)", job.what, steps, modelDir)
				return a.removeStaleCheckpoints(ckDir, rec)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if ck, cerr := readRecord(ckDir); cerr != nil || ck != rec {
				return fmt.Errorf("%s is damaged (%v) and there are no checkpoints of its run to save it again from; pass -overwrite to train it again", modelDir, err)
			}
			fmt.Fprintf(a.stderr, "%s is damaged (%v); saving it again from the checkpoints in %s\n", modelDir, err, ckDir)
		} else {
			switch {
			case err == nil:
				return fmt.Errorf("%s was trained from other pairs or settings (%+v); run the "+job.cmd+" subcommand with -overwrite to train it again", modelDir, saved.run())
			case !errors.Is(err, os.ErrNotExist):
				return err
			}
			if _, err := os.Stat(modelDir); err == nil {
				if _, err := readRecord(ckDir); err != nil {
					return fmt.Errorf("%s exists but was not written by a finished "+job.cmd+" run; pass -overwrite to replace it", modelDir)
				}
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
	opts := job.opts
	opts.Seed = a.seed
	opts.CheckpointDir = ckDir
	opts.CheckpointEvery = a.checkpointEvery
	opts.Resume = true // the checks above made sure the checkpoints are this run's
	if !a.quiet {
		opts.Progress = a.stderr
	}
	warmup := fmt.Sprintf("%g%% warm-up", 100*opts.WarmupRatio)
	if opts.WarmupSteps > 0 {
		warmup = fmt.Sprintf("%d warm-up steps", opts.WarmupSteps)
	}
	fmt.Fprintf(a.stderr, "training %s on %s with %s: epochs %d × %d steps of %d, learning rate %g, %s; checkpoints in %s\n",
		a.base, job.what, lossName(job.loss), opts.Epochs, steps/opts.Epochs, opts.BatchSize, opts.LearningRate, warmup, ckDir)
	res, err := m.Fit(ctx, list, job.loss, opts)
	if err != nil {
		if opts.Progress != nil {
			fmt.Fprintln(a.stderr) // an interrupted bar ends without a newline
		}
		return err
	}
	if opts.Progress == nil {
		for _, s := range res.SkippedCheckpoints {
			fmt.Fprintf(a.stderr, "skipped a damaged checkpoint: %s\n", s)
		}
	}
	// The model counts as saved once it is on disk, loads, and embeds as the
	// trained model does; only then are the checkpoints it came from removed.
	// Its training.json, written last, marks it finished.
	if err := removeSynced(filepath.Join(modelDir, trainingFile)); err != nil {
		return err
	}
	if err := m.Save(modelDir); err != nil {
		return fmt.Errorf("saving the trained model: %w", err)
	}
	if a.afterSave != nil {
		a.afterSave(modelDir)
	}
	if err := a.verifySaved(ctx, modelDir, m); err != nil {
		return fmt.Errorf("%w; the checkpoints in %s are kept: run the "+job.cmd+" subcommand again to save it again", err, ckDir)
	}
	digest, err := modelDigest(modelDir)
	if err != nil {
		return err
	}
	done := rec
	done.ModelSHA256 = digest
	if err := writeRecord(modelDir, done); err != nil {
		return err
	}
	if err := retire(ckDir); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "saved the trained model to %s\n", modelDir)
	a.note("%s, %d training steps → %s", job.what, steps, modelDir)
	return nil
}

// lossName names l for the messages.
func lossName(l loss.Loss) string {
	switch l.(type) {
	case loss.MarginMSE:
		return "MarginMSELoss"
	case loss.MNRL:
		return "MultipleNegativesRankingLoss"
	}
	return fmt.Sprintf("%T", l)
}

// checkSaved checks the finished model in dir: its files have the digest
// recorded when it was saved (zeroed or torn blocks fail here), or, for a
// model recorded without one, it loads and embeds probeTexts.
func (a *app) checkSaved(ctx context.Context, dir, digest string) error {
	if digest != "" {
		got, err := modelDigest(dir)
		if err != nil {
			return err
		}
		if got != digest {
			return fmt.Errorf("its files have SHA-256 %s, but %s recorded %s when they were saved", got, trainingFile, digest)
		}
		return nil
	}
	_, err := loadAndEmbed(ctx, dir)
	return err
}

// loadAndEmbed loads the model in dir and embeds probeTexts with it.
func loadAndEmbed(ctx context.Context, dir string) ([][]float32, error) {
	m, err := encoder.Load(ctx, dir, encoder.LoadOptions{})
	if err != nil {
		return nil, err
	}
	return m.Encode(ctx, probeTexts)
}

// modelDigest is the SHA-256 of the files of the model folder dir that a
// loader reads (hashFolder).
func modelDigest(dir string) (string, error) {
	h := sha256.New()
	if err := hashFolder(h, dir); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// verifySaved checks that the model saved in dir is the trained model m:
// read back from disk, it embeds probeTexts bit for bit as m does.
func (a *app) verifySaved(ctx context.Context, dir string, m *encoder.Model) error {
	got, err := loadAndEmbed(ctx, dir)
	if err != nil {
		return fmt.Errorf("the saved model %s does not load: %w", dir, err)
	}
	want, err := m.Encode(ctx, probeTexts)
	if err != nil {
		return err
	}
	for i := range want {
		if !slices.Equal(got[i], want[i]) {
			return fmt.Errorf("the saved model %s, read back, embeds %q differently from the trained model: the file on disk is damaged", dir, probeTexts[i])
		}
	}
	return nil
}

// retiredPath is where retire moves a folder before removing it.
func retiredPath(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".removing")
}

// retire removes dir in a way a crash cannot leave half done under its
// name: it is renamed away first (and the rename synced), then removed; a
// crash in between leaves retiredPath(dir), which the next run removes.
func retire(dir string) error {
	old := retiredPath(dir)
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(dir, old); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := syncPath(filepath.Dir(dir)); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// removeStaleCheckpoints removes the checkpoints folder left beside a
// finished, verified model by a crash while it was being removed (those of
// another run, with another training.json, are left for the checks that
// refuse them).
func (a *app) removeStaleCheckpoints(ckDir string, rec trainingRecord) error {
	if _, err := os.Stat(ckDir); err != nil {
		return nil
	}
	if saved, err := readRecord(ckDir); err == nil && saved.run() != rec {
		return nil
	}
	fmt.Fprintf(a.stderr, "removing %s, left over from the run that trained the model\n", ckDir)
	return retire(ckDir)
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

// writeRecord writes dir/training.json atomically and durably.
func writeRecord(dir string, r trainingRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return saveAtomic(filepath.Join(dir, trainingFile), func(tmp string) error {
		return os.WriteFile(tmp, append(b, '\n'), 0o644)
	})
}

// removeSynced removes a file (a missing one is no error) and syncs its
// folder, so that the removal is on disk before what follows.
func removeSynced(path string) error {
	err := os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncPath(filepath.Dir(path))
}
