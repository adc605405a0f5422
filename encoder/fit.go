package encoder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/genq-go/genq/encoder/optim"
	"github.com/genq-go/genq/internal/devopt"
	"github.com/genq-go/genq/internal/nn"
	"github.com/genq-go/genq/internal/train"
	"github.com/genq-go/genq/loss"
)

// Example is one training example: its texts, in the order the loss takes
// them, as sentence-transformers' InputExample(texts=[...]). For
// MultipleNegativesRankingLoss that is an anchor (a query), its positive (the
// passage it was generated from) and optionally hard negatives:
//
//	encoder.Example{Texts: []string{query, passage}}
//	encoder.Example{Texts: []string{query, passage, hardNegative}}
//
// A loss that takes labels, such as loss.MarginMSE, reads them from Labels:
// GPL's (query, positive, negative) triple with the cross-encoder margin as
// label, InputExample(texts=[q, p, n], label=margin), is
//
//	encoder.Example{Texts: []string{query, positive, negative}, Labels: []float64{margin}}
//
// Every example of a Fit call has the same number of texts, and the same
// number of labels.
type Example struct {
	Texts []string
	// Labels are the example's labels, in the layout its loss documents
	// (MarginMSE: one teacher margin per hard negative); nil for a loss
	// without labels, such as MNRL.
	Labels []float64
}

// FitOptions are the settings of Fit. Start from DefaultFitOptions.
type FitOptions struct {
	Epochs       int     // passes over the examples
	BatchSize    int     // examples per step; an epoch has len(examples)/BatchSize steps
	LearningRate float64 // AdamW's peak learning rate
	WarmupRatio  float64 // warm-up steps as a fraction of all steps (floored), when WarmupSteps is 0
	WarmupSteps  int     // warm-up steps; > 0 overrides WarmupRatio
	WeightDecay  float64 // AdamW weight decay, except for biases and LayerNorm weights
	MaxGradNorm  float64 // global gradient-norm clip
	Seed         uint64  // seeds the batch order and dropout

	// CheckpointDir, when set, receives a checkpoint every CheckpointEvery
	// steps (0: none on the way) and one at the end of the run, which marks
	// it finished. Fit checks that it can write there before the first step,
	// keeps the two latest checkpoints, and syncs each to disk before going
	// on (a checkpoint Fit has written survives a power loss).
	CheckpointDir   string
	CheckpointEvery int
	// Resume continues the run whose checkpoint CheckpointDir holds, from its
	// last checkpoint (a finished run takes no step and leaves the model with
	// its final weights). It must be the same run: the same examples, loss
	// and options (a loss is identified by its type and its value printed
	// with %+v, i.e. its String method where it has one). With a
	// CheckpointDir that holds no checkpoint, the run starts from scratch.
	// Without Resume, Fit refuses a CheckpointDir that holds a checkpoint.
	Resume bool

	// Progress, when not nil, receives a progress bar: steps done, loss and
	// rate (e.g. os.Stderr).
	Progress io.Writer

	// Evaluate, when set, is called after every EvaluateEvery-th step (0:
	// never by count) and after the last step of every epoch, as
	// sentence-transformers calls its evaluator. The model is unlocked while
	// it runs, so it may call Encode or Save; it must not call Fit or change
	// the weights. An error stops Fit and is returned, wrapped (the
	// checkpoint of that step, if one is due, is written first).
	Evaluate      func(ctx context.Context, s FitStatus) error
	EvaluateEvery int

	// inOrder (tests) takes the batches in input order, unshuffled.
	inOrder bool
	// stopAfter (tests) interrupts Fit after that many steps of this call.
	stopAfter int
	// hostOptimizer (tests) clips and steps on the host even where a
	// device optimizer would run (see internal/devopt).
	hostOptimizer bool
}

// FitStatus is where a Fit run stands when it calls FitOptions.Evaluate.
type FitStatus struct {
	Step       int     // steps completed
	TotalSteps int     // steps of the whole run
	Epoch      int     // the epoch of the last completed step (from 0)
	EpochEnd   bool    // the last completed step ended its epoch
	Loss       float64 // the loss of the last completed step
}

// FitResult is what a Fit run did.
type FitResult struct {
	// Losses is the loss of every step the run has completed: Losses[k] is
	// that of step k, including the steps taken before a resume.
	Losses []float64
	// Steps is how many steps this call took (fewer than len(Losses) when
	// it resumed a run).
	Steps int
	// SkippedCheckpoints names the damaged checkpoints a resumed run passed
	// over for an older one, each with its problem (Fit keeps the two latest
	// checkpoints so that one damaged file costs the steps since the older
	// one, not the run). Fit also writes them to Progress.
	SkippedCheckpoints []string
}

// DefaultFitOptions returns the settings of the GenQ example script:
// 3 epochs, batches of 64, learning rate 2e-5 with linear warm-up over the
// first 10% of the steps and linear decay after, weight decay 0.01,
// gradient-norm clip 1.
func DefaultFitOptions() FitOptions {
	return FitOptions{Epochs: 3, BatchSize: 64, LearningRate: 2e-5, WarmupRatio: 0.1, WeightDecay: 0.01,
		MaxGradNorm: 1}
}

// errInterrupted is what the stopAfter test hook returns.
var errInterrupted = errors.New("encoder: Fit interrupted (test hook)")

// Fit trains the model on the examples with the loss l (nil means
// loss.NewMNRL(), MultipleNegativesRankingLoss with scale 20 and cosine
// similarity), as sentence-transformers' fit does with a
// NoDuplicatesDataLoader: batches in which no text repeats, every text
// column through the transformer in train mode (dropout from the config),
// the loss on the pooled embeddings of the columns, backward, global
// gradient-norm clipping, an AdamW step (no weight decay for names
// containing "bias", "LayerNorm.bias", "LayerNorm.weight") at the learning
// rate of the WarmupLinear schedule.
//
// The examples' Labels reach the loss as its labels node ([BatchSize,
// len(Labels)] float32): loss.MarginMSE reads the teacher margins there. A
// loss.GradCached loss (loss.CachedMNRL) trains with gradient caching, as
// sentence-transformers' CachedMultipleNegativesRankingLoss does: each text
// column is embedded MiniBatch texts at a time without a backward graph, the
// loss's gradient with respect to the batch's embeddings is taken, and each
// mini-batch runs again, with the same dropout masks, to back-propagate it;
// the weights' gradients add up over the mini-batches. The update is the one
// of the whole batch, in the memory of a mini-batch's graphs.
//
// In a `cuda` build the clipping and the AdamW step run on the GPU too:
// the gradients (summed over the mini-batches with gradient caching) stay
// in device memory, as do the optimizer's moments for the whole run.
//
// With a CheckpointDir, Fit writes a checkpoint every CheckpointEvery steps
// and at the end; with Resume it continues from the one it finds there
// without repeating or skipping a step. A loss that is NaN or infinite
// stops training with an error naming the step. Cancelling ctx stops between
// steps. On error the result holds the steps completed so far.
func (m *Model) Fit(ctx context.Context, examples []Example, l loss.Loss, opts FitOptions) (FitResult, error) {
	if l == nil {
		l = loss.NewMNRL()
	}
	if err := opts.validate(examples); err != nil {
		return FitResult{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.packs().Changed() // for the packed weights of the inference graphs

	perEpoch := len(examples) / opts.BatchSize
	total := perEpoch * opts.Epochs
	warmup := opts.WarmupSteps
	if warmup <= 0 {
		warmup = int(float64(total) * opts.WarmupRatio)
	}
	var batcher *train.NoDuplicates
	if !opts.inOrder {
		texts := make([][]string, len(examples))
		for i, e := range examples {
			texts[i] = e.Texts
		}
		var err error
		if batcher, err = train.NewNoDuplicates(texts, opts.BatchSize, opts.Seed); err != nil {
			return FitResult{}, fmt.Errorf("encoder: Fit: %w", err)
		}
	}
	tr, err := m.newTrainer(opts, l)
	if err != nil {
		return FitResult{}, err
	}
	defer tr.close()
	run := fitRun(opts, l, total, warmup, batcher)
	store := &train.Store{Dir: opts.CheckpointDir, Keep: 2}
	var res FitResult
	if opts.CheckpointDir != "" {
		if res, err = tr.resume(store, run, total, batcher, opts); err != nil {
			return res, err
		}
	}
	start := len(res.Losses)
	bar := train.NewProgress(opts.Progress, "Iteration", start, total, opts.Progress != nil)
	for step := start; step < total; step++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if opts.stopAfter > 0 && step-start == opts.stopAfter {
			return res, errInterrupted
		}
		idx, err := nextBatch(batcher, step%perEpoch, opts.BatchSize)
		if err != nil {
			return res, fmt.Errorf("encoder: Fit: step %d: %w", step, err)
		}
		cols := make([]tokenized, len(examples[0].Texts))
		for c := range cols {
			texts := make([]string, len(idx))
			for i, j := range idx {
				texts[i] = examples[j].Texts[c]
			}
			if cols[c], err = m.tokenize(texts); err != nil {
				return res, fmt.Errorf("encoder: Fit: step %d: %w", step, err)
			}
		}
		var labels [][]float64
		if len(examples[0].Labels) > 0 {
			labels = make([][]float64, len(idx))
			for i, j := range idx {
				labels[i] = examples[j].Labels
			}
		}
		lv, err := tr.step(step, cols, opts.LearningRate*optim.WarmupLinear(step, warmup, total), labels...)
		if err != nil {
			return res, fmt.Errorf("encoder: Fit: step %d (epoch %d): %w", step, step/perEpoch, err)
		}
		res.Losses = append(res.Losses, lv)
		res.Steps++
		bar.Step(lv)
		done := step + 1
		if opts.CheckpointDir != "" && (done == total || (opts.CheckpointEvery > 0 && done%opts.CheckpointEvery == 0)) {
			if err := tr.dev.Download(); err != nil { // a device optimizer's state into tr.opt
				return res, fmt.Errorf("encoder: Fit: the checkpoint of step %d: %w", done, err)
			}
			if err := store.Save(tr.checkpoint(done, perEpoch, run, batcher, res.Losses)); err != nil {
				return res, fmt.Errorf("encoder: Fit: writing the checkpoint of step %d: %w", done, err)
			}
		}
		epochEnd := done%perEpoch == 0
		if opts.Evaluate != nil && (epochEnd || (opts.EvaluateEvery > 0 && done%opts.EvaluateEvery == 0)) {
			s := FitStatus{Step: done, TotalSteps: total, Epoch: step / perEpoch, EpochEnd: epochEnd, Loss: lv}
			if err := m.evaluate(ctx, opts.Evaluate, s); err != nil {
				return res, fmt.Errorf("encoder: Fit: evaluating after step %d: %w", done, err)
			}
		}
	}
	bar.Finish()
	return res, nil
}

// evaluate calls fn with the model unlocked and its inference graphs told
// that the weights changed, so that fn may call Encode. m.mu must be held.
func (m *Model) evaluate(ctx context.Context, fn func(context.Context, FitStatus) error, s FitStatus) error {
	m.packs().Changed()
	m.mu.Unlock()
	defer m.mu.Lock()
	return fn(ctx, s)
}

// trainer is what a Fit run carries from step to step: the optimizer and
// its view of the weights, the dropout sources and the training graphs,
// compiled once per shape (batch size and the padded length of each column).
type trainer struct {
	m            *Model
	seed         uint64
	maxGradNorm  float64
	all          []*param // every saved weight, extras included, in params() order
	oparams      []*optim.Param
	byParam      map[*param]*optim.Param
	opt          *optim.AdamW
	hidden, attn *nn.Dropout
	loss         loss.Loss
	graphs       map[string]*trainGraph
	cache        *gradCache // gradient caching, for a loss.GradCached loss; nil otherwise
	// dev clips and steps on the GPU where the graphs run there (nil on
	// the CPU): the graphs hand it their gradients on the device.
	dev *devopt.Optimizer
}

// newTrainer sets up AdamW over the model's weights (weight decay except for
// biases and LayerNorm weights) and the dropout sources for opts, to train
// with l. m.mu must be held while it is used.
func (m *Model) newTrainer(opts FitOptions, l loss.Loss) (*trainer, error) {
	tr := &trainer{m: m, seed: opts.Seed, maxGradNorm: opts.MaxGradNorm,
		all:     append(m.body.params(), m.body.extras()...),
		byParam: map[*param]*optim.Param{},
		hidden:  nn.NewDropout(m.cfg.HiddenDropout, opts.Seed),
		attn:    nn.NewDropout(m.cfg.AttentionDropout, opts.Seed),
		loss:    l,
		graphs:  map[string]*trainGraph{},
	}
	var err error
	if tr.cache, err = newGradCache(l); err != nil {
		return nil, err
	}
	tr.oparams = make([]*optim.Param, len(tr.all))
	for i, p := range tr.all {
		tr.oparams[i] = &optim.Param{Name: p.name, Data: p.data()}
		tr.byParam[p] = tr.oparams[i]
	}
	cfg := optim.Config{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	tr.opt, err = optim.NewAdamW(cfg, optim.SplitDecay(tr.oparams, opts.WeightDecay)...)
	if err != nil {
		return nil, fmt.Errorf("encoder: Fit: %w", err)
	}
	if !opts.hostOptimizer {
		if tr.dev, err = devopt.New(tr.opt, cfg, opts.MaxGradNorm); err != nil {
			return nil, fmt.Errorf("encoder: Fit: %w", err)
		}
	}
	return tr, nil
}

// close frees what the run holds: the training graphs' machines (on a GPU,
// their contexts, device memory and threads) and the device optimizer.
func (tr *trainer) close() {
	for _, tg := range tr.graphs {
		_ = tg.vm.Close()
	}
	if gc := tr.cache; gc != nil {
		for _, f := range gc.forward {
			_ = f.vm.Close()
		}
		for _, ct := range gc.train {
			_ = ct.tg.vm.Close()
		}
	}
	_ = tr.dev.Close()
}

// step is one training step on a batch, one tokenized batch per text column,
// and the labels of its examples (none for a loss without labels), at
// learning rate lr: forward and backward through the graph for the batch's
// shape (with step's dropout masks), global gradient-norm clipping and an
// AdamW update (with gradient caching, see gradCache, for a loss.GradCached
// loss). It returns the loss, and fails when the loss is NaN or infinite.
func (tr *trainer) step(step int, cols []tokenized, lr float64, labels ...[]float64) (float64, error) {
	if tr.cache != nil {
		return tr.cachedStep(step, cols, labels, lr)
	}
	m := tr.m
	lens := make([]int, len(cols))
	key := strconv.Itoa(len(cols[0].ids))
	for i, c := range cols {
		lens[i] = bucket(c, m.maxSeqLen)
		key += "," + strconv.Itoa(lens[i])
	}
	tg, ok := tr.graphs[key]
	if !ok {
		var err error
		var nlabels int
		if len(labels) > 0 {
			nlabels = len(labels[0])
		}
		if tg, err = m.buildTrainLabeled(len(cols[0].ids), lens, tr.loss, nlabels, tr.hidden, tr.attn, tr.dev); err != nil {
			return 0, err
		}
		tr.graphs[key] = tg
	}
	tr.hidden.Reseed(tr.seed ^ uint64(2*step+1)*0x9e3779b97f4a7c15)
	tr.attn.Reseed(tr.seed ^ uint64(2*step+2)*0x9e3779b97f4a7c15)
	if err := tg.setLabels(labels); err != nil {
		return 0, err
	}
	tr.dev.Begin()
	if err := tg.step(cols...); err != nil {
		return 0, err
	}
	l := tg.lossValue()
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return l, fmt.Errorf("the loss is %v; lower the learning rate or check the data", l)
	}
	if tr.dev != nil {
		_, err := tr.dev.Step(lr)
		return l, err
	}
	for _, op := range tr.oparams {
		op.Grad = nil
	}
	grads := tg.gradData()
	for i, p := range tg.params {
		tr.byParam[p].Grad = grads[i]
	}
	optim.ClipGradNorm(grads, tr.maxGradNorm)
	if err := tr.opt.Step(lr); err != nil {
		return l, err
	}
	return l, nil
}

func (o FitOptions) validate(examples []Example) error {
	n := len(examples)
	switch {
	case o.Epochs <= 0:
		return fmt.Errorf("encoder: Fit: Epochs must be positive, got %d", o.Epochs)
	case o.BatchSize <= 0:
		return fmt.Errorf("encoder: Fit: BatchSize must be positive, got %d", o.BatchSize)
	case n < o.BatchSize:
		return fmt.Errorf("encoder: Fit: %d examples cannot fill one batch of %d; lower BatchSize or add examples", n, o.BatchSize)
	case !(o.LearningRate >= 0) || math.IsInf(o.LearningRate, 1):
		return fmt.Errorf("encoder: Fit: LearningRate must be finite and ≥ 0, got %v", o.LearningRate)
	case !(o.MaxGradNorm > 0):
		return fmt.Errorf("encoder: Fit: MaxGradNorm must be positive, got %v", o.MaxGradNorm)
	case o.CheckpointEvery < 0:
		return fmt.Errorf("encoder: Fit: CheckpointEvery must be ≥ 0, got %d", o.CheckpointEvery)
	case o.EvaluateEvery < 0:
		return fmt.Errorf("encoder: Fit: EvaluateEvery must be ≥ 0, got %d", o.EvaluateEvery)
	}
	cols, labels := len(examples[0].Texts), len(examples[0].Labels)
	for i, e := range examples {
		if len(e.Texts) == 0 || len(e.Texts) != cols {
			return fmt.Errorf("encoder: Fit: example %d has %d texts and example 0 has %d; every example needs the same texts (anchor, positive, then any hard negatives)", i, len(e.Texts), cols)
		}
		if len(e.Labels) != labels {
			return fmt.Errorf("encoder: Fit: example %d has %d labels and example 0 has %d; every example needs the same number of labels (MarginMSE: one margin per hard negative)", i, len(e.Labels), labels)
		}
		for k, v := range e.Labels {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("encoder: Fit: label %d of example %d is %v; labels must be finite", k, i, v)
			}
		}
	}
	return nil
}

// checkResume decides whether Fit may continue from checkpoint c, saved by
// the run fingerprinted by its Extra: only a checkpoint of the same run
// (fingerprint run, total steps), and only when opts.Resume asks for it.
func checkResume(c *train.Checkpoint, run map[string]string, total int, opts FitOptions) error {
	if diffs := runDiffs(c, run); len(diffs) > 0 {
		return fmt.Errorf("encoder: Fit: %s holds a checkpoint of another run: %s; use an empty CheckpointDir to start a new run, or resume with the same examples, loss and options",
			opts.CheckpointDir, strings.Join(diffs, ", "))
	}
	if c.Step < 0 || c.Step > total || len(c.Losses) != c.Step {
		return fmt.Errorf("encoder: Fit: the checkpoint in %s is at step %d (with %d losses) of a run of %d steps; it is damaged or not Fit's", opts.CheckpointDir, c.Step, len(c.Losses), total)
	}
	if !opts.Resume {
		state := "an unfinished run"
		if c.Step == total {
			state = "a finished run"
		}
		return fmt.Errorf("encoder: Fit: %s holds a checkpoint of %s (step %d of %d); set FitOptions.Resume to continue it, or use an empty CheckpointDir to start over",
			opts.CheckpointDir, state, c.Step, total)
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
