package encoder

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"

	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/internal/optim"
	"github.com/genq-go/genq/internal/train"
	"github.com/genq-go/genq/loss"
)

// Pair is one training example: a query and the passage it was generated
// from (its positive); the other passages of the batch are its negatives.
type Pair struct {
	Query, Passage string
}

// FitOptions are the settings of Fit. Start from DefaultFitOptions.
type FitOptions struct {
	Epochs       int     // passes over the pairs
	BatchSize    int     // pairs per step; an epoch has len(pairs)/BatchSize steps
	LearningRate float64 // AdamW's peak learning rate
	WarmupRatio  float64 // warm-up steps as a fraction of all steps (floored), when WarmupSteps is 0
	WarmupSteps  int     // warm-up steps; > 0 overrides WarmupRatio
	WeightDecay  float64 // AdamW weight decay, except for biases and LayerNorm weights
	MaxGradNorm  float64 // global gradient-norm clip
	Scale        float64 // MNRL's similarity scale
	Seed         uint64  // seeds the batch order and dropout

	// CheckpointDir, when set, receives a checkpoint every CheckpointEvery
	// steps, and Fit resumes from the one it finds there.
	CheckpointDir   string
	CheckpointEvery int
	// ShowProgress draws a progress bar on stderr: steps done, loss and rate.
	ShowProgress bool

	// inOrder (tests) takes the batches in input order, unshuffled.
	inOrder bool
	// stopAfter (tests) interrupts Fit after that many steps of this call.
	stopAfter int
}

// DefaultFitOptions returns the settings of the GenQ example script:
// 3 epochs, batches of 64, learning rate 2e-5 with linear warm-up over the
// first 10% of the steps and linear decay after, weight decay 0.01,
// gradient-norm clip 1, MNRL scale 20.
func DefaultFitOptions() FitOptions {
	return FitOptions{Epochs: 3, BatchSize: 64, LearningRate: 2e-5, WarmupRatio: 0.1, WeightDecay: 0.01,
		MaxGradNorm: 1, Scale: 20}
}

// errInterrupted is what the stopAfter test hook returns.
var errInterrupted = errors.New("encoder: Fit interrupted (test hook)")

// Fit trains the model on (query, passage) pairs with
// MultipleNegativesRankingLoss, as sentence-transformers' fit does with a
// NoDuplicatesDataLoader: batches without repeated texts, both columns
// through the transformer in train mode (dropout from the config), MNRL on
// the pooled embeddings, backward, global gradient-norm clipping, an AdamW
// step (no weight decay for names containing "bias", "LayerNorm.bias",
// "LayerNorm.weight"), then the WarmupLinear schedule.
//
// With a CheckpointDir, Fit writes a checkpoint every CheckpointEvery steps
// and, when one is there, resumes from it without repeating or skipping a
// step. A loss that is NaN or infinite stops training with an error naming
// the step. Cancelling ctx stops between steps.
func (m *Model) Fit(ctx context.Context, pairs []Pair, opts FitOptions) error {
	if err := opts.validate(len(pairs)); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.packs().Changed() // for the packed weights of the inference graphs

	perEpoch := len(pairs) / opts.BatchSize
	total := perEpoch * opts.Epochs
	warmup := opts.WarmupSteps
	if warmup <= 0 {
		warmup = int(float64(total) * opts.WarmupRatio)
	}
	var batcher *train.NoDuplicates
	if !opts.inOrder {
		texts := make([][]string, len(pairs))
		for i, p := range pairs {
			texts[i] = []string{p.Query, p.Passage}
		}
		var err error
		if batcher, err = train.NewNoDuplicates(texts, opts.BatchSize, opts.Seed); err != nil {
			return fmt.Errorf("encoder: Fit: %w", err)
		}
	}
	tr, err := m.newTrainer(opts)
	if err != nil {
		return err
	}
	run := fitRun(opts, total, warmup, batcher)
	store := &train.Store{Dir: opts.CheckpointDir, Keep: 1}
	start := 0
	if opts.CheckpointDir != "" {
		switch c, err := store.Load(); {
		case errors.Is(err, train.ErrNoCheckpoint):
		case err != nil:
			return fmt.Errorf("encoder: Fit: resuming: %w", err)
		default:
			if err := tr.restore(c, run, total, batcher); err != nil {
				return fmt.Errorf("encoder: Fit: resuming from the checkpoint of step %d in %s: %w", c.Step, opts.CheckpointDir, err)
			}
			start = c.Step
		}
	}
	bar := train.NewProgress(os.Stderr, "Iteration", start, total, opts.ShowProgress)
	for step := start; step < total; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if opts.stopAfter > 0 && step-start == opts.stopAfter {
			return errInterrupted
		}
		idx, err := nextBatch(batcher, step%perEpoch, opts.BatchSize)
		if err != nil {
			return fmt.Errorf("encoder: Fit: step %d: %w", step, err)
		}
		qs, ps := make([]string, len(idx)), make([]string, len(idx))
		for i, j := range idx {
			qs[i], ps[i] = pairs[j].Query, pairs[j].Passage
		}
		q, err := m.tokenize(qs)
		if err != nil {
			return fmt.Errorf("encoder: Fit: step %d: %w", step, err)
		}
		p, err := m.tokenize(ps)
		if err != nil {
			return fmt.Errorf("encoder: Fit: step %d: %w", step, err)
		}
		l, err := tr.step(step, q, p, opts.LearningRate*optim.WarmupLinear(step, warmup, total))
		if err != nil {
			return fmt.Errorf("encoder: Fit: step %d (epoch %d): %w", step, step/perEpoch, err)
		}
		bar.Step(l)
		if opts.CheckpointDir != "" && opts.CheckpointEvery > 0 && (step+1)%opts.CheckpointEvery == 0 && step+1 < total {
			if err := store.Save(tr.checkpoint(step+1, perEpoch, run, batcher)); err != nil {
				return fmt.Errorf("encoder: Fit: writing the checkpoint of step %d: %w", step+1, err)
			}
		}
	}
	bar.Finish()
	return nil
}

// trainer is what a Fit run carries from step to step: the optimizer and
// its view of the weights, the dropout sources and the training graphs,
// compiled once per (batch, query length, passage length) shape.
type trainer struct {
	m            *Model
	seed         uint64
	maxGradNorm  float64
	all          []*param // every saved weight, extras included, in params() order
	oparams      []*optim.Param
	byParam      map[*param]*optim.Param
	opt          *optim.AdamW
	hidden, attn *nn.Dropout
	mnrl         loss.MNRL
	graphs       map[[3]int]*trainGraph
}

// newTrainer sets up AdamW over the model's weights (weight decay except for
// biases and LayerNorm weights) and the dropout sources for opts. m.mu must
// be held while it is used.
func (m *Model) newTrainer(opts FitOptions) (*trainer, error) {
	tr := &trainer{m: m, seed: opts.Seed, maxGradNorm: opts.MaxGradNorm,
		all:     append(m.body.params(), m.body.extras()...),
		byParam: map[*param]*optim.Param{},
		hidden:  nn.NewDropout(m.cfg.HiddenDropout, opts.Seed),
		attn:    nn.NewDropout(m.cfg.AttentionDropout, opts.Seed),
		mnrl:    loss.MNRL{Scale: opts.Scale, Similarity: loss.Cosine},
		graphs:  map[[3]int]*trainGraph{},
	}
	tr.oparams = make([]*optim.Param, len(tr.all))
	for i, p := range tr.all {
		tr.oparams[i] = &optim.Param{Name: p.name, Data: p.data()}
		tr.byParam[p] = tr.oparams[i]
	}
	var err error
	tr.opt, err = optim.NewAdamW(optim.Config{LR: opts.LearningRate, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		optim.SplitDecay(tr.oparams, opts.WeightDecay)...)
	if err != nil {
		return nil, fmt.Errorf("encoder: Fit: %w", err)
	}
	return tr, nil
}

// step is one training step on a tokenized batch of queries and their
// passages at learning rate lr: forward and backward through the graph for
// the batch's shape (with step's dropout masks), global gradient-norm
// clipping and an AdamW update. It returns the loss, and fails when the
// loss is NaN or infinite.
func (tr *trainer) step(step int, q, p tokenized, lr float64) (float64, error) {
	m := tr.m
	tq, tp := bucket(q, m.maxSeqLen), bucket(p, m.maxSeqLen)
	key := [3]int{len(q.ids), tq, tp}
	tg, ok := tr.graphs[key]
	if !ok {
		var err error
		if tg, err = m.buildTrain(len(q.ids), tq, tp, tr.mnrl, tr.hidden, tr.attn); err != nil {
			return 0, err
		}
		tr.graphs[key] = tg
	}
	tr.hidden.Reseed(tr.seed ^ uint64(2*step+1)*0x9e3779b97f4a7c15)
	tr.attn.Reseed(tr.seed ^ uint64(2*step+2)*0x9e3779b97f4a7c15)
	if err := tg.step(q, p); err != nil {
		return 0, err
	}
	l := tg.lossValue()
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return l, fmt.Errorf("the loss is %v; lower the learning rate or check the data", l)
	}
	for _, op := range tr.oparams {
		op.Grad = nil
	}
	grads := tg.gradData()
	for i, p := range tg.params {
		tr.byParam[p].Grad = grads[i]
	}
	optim.ClipGradNorm(grads, tr.maxGradNorm)
	tr.opt.LR = lr
	if err := tr.opt.Step(); err != nil {
		return l, err
	}
	return l, nil
}

func (o FitOptions) validate(n int) error {
	switch {
	case o.Epochs <= 0:
		return fmt.Errorf("encoder: Fit: Epochs must be positive, got %d", o.Epochs)
	case o.BatchSize <= 0:
		return fmt.Errorf("encoder: Fit: BatchSize must be positive, got %d", o.BatchSize)
	case n < o.BatchSize:
		return fmt.Errorf("encoder: Fit: %d pairs cannot fill one batch of %d; lower BatchSize or add pairs", n, o.BatchSize)
	case !(o.LearningRate >= 0):
		return fmt.Errorf("encoder: Fit: LearningRate must be ≥ 0, got %v", o.LearningRate)
	case !(o.MaxGradNorm > 0):
		return fmt.Errorf("encoder: Fit: MaxGradNorm must be positive, got %v", o.MaxGradNorm)
	case !(o.Scale > 0):
		return fmt.Errorf("encoder: Fit: Scale must be positive, got %v (sentence-transformers uses 20)", o.Scale)
	case o.CheckpointEvery < 0:
		return fmt.Errorf("encoder: Fit: CheckpointEvery must be ≥ 0, got %d", o.CheckpointEvery)
	}
	return nil
}

// nextBatch returns the example indices of the next batch: from the
// NoDuplicates batcher, or (test hook, batcher nil) the k-th slice in order.
func nextBatch(b *train.NoDuplicates, k, size int) ([]int, error) {
	if b != nil {
		return b.Next()
	}
	idx := make([]int, size)
	for i := range idx {
		idx[i] = k*size + i
	}
	return idx, nil
}

// bucket is the padded length of a tokenized batch in a cached graph.
func bucket(t tokenized, maxSeqLen int) int {
	n := 0
	for _, r := range t.ids {
		n = max(n, len(r))
	}
	return min((n+seqBucket-1)/seqBucket*seqBucket, max(n, maxSeqLen))
}
