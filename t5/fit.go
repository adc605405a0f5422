package t5

// Fit: fine-tuning the query generator on (passage, query) pairs with the
// optimizer recipe of transformers' Trainer.

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
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
)

// Pair is one training example of Fit: a passage (the model's input) and a
// query written for it (the target the model learns to generate).
type Pair struct {
	Passage string
	Query   string
}

// FitOptions are the settings of Fit, named after the
// transformers.TrainingArguments they stand for. Start from
// DefaultFitOptions.
type FitOptions struct {
	Epochs       int     // num_train_epochs: passes over the pairs
	MaxSteps     int     // max_steps: when > 0, the run's length in steps (cycling over the pairs), overriding Epochs
	BatchSize    int     // per_device_train_batch_size; an epoch has ⌈len(pairs)/BatchSize⌉ steps, the last batch may be short
	LearningRate float64 // learning_rate: AdamW's peak learning rate
	WarmupSteps  int     // warmup_steps: linear warm-up from 0; > 0 overrides WarmupRatio
	WarmupRatio  float64 // warmup_ratio: warm-up steps as a fraction of all steps (rounded up)
	WeightDecay  float64 // weight_decay, for every parameter but biases and layer norm weights
	AdamBeta1    float64 // adam_beta1
	AdamBeta2    float64 // adam_beta2
	AdamEpsilon  float64 // adam_epsilon
	MaxGradNorm  float64 // max_grad_norm: global gradient-norm clip; 0 turns clipping off
	Seed         uint64  // seeds the order of the pairs in every epoch

	// MaxSourceLength and MaxTargetLength truncate the tokenized passages
	// and queries (</s> kept last), as tokenizer(..., truncation=True,
	// max_length=...) does; 0 means no truncation.
	MaxSourceLength int
	MaxTargetLength int

	// NoDropout trains without dropout. By default Fit applies the
	// dropout of model.train() at the config's dropout_rate (0.1 for the
	// hub's T5 checkpoints, T5Config's default when config.json does not
	// set it; a model made with New has none): on the embeddings, the
	// attention probabilities, the output of every attention and
	// feed-forward sublayer, the feed-forward's hidden activation and the
	// final layer norm's output. Masks come from Seed and the step number,
	// not from torch's generator.
	NoDropout bool

	// CheckpointDir, when set, receives a checkpoint every CheckpointEvery
	// steps (0: none on the way) and one at the end of the run.
	CheckpointDir   string
	CheckpointEvery int
	// Resume continues the run whose checkpoint CheckpointDir holds, from
	// its last checkpoint, without repeating or skipping a step (a finished
	// run takes no step and leaves the model with its final weights). It
	// must be the same run: the same pairs and options. With a
	// CheckpointDir that holds no checkpoint, the run starts from scratch;
	// without Resume, a CheckpointDir holding one is refused.
	Resume bool

	// Progress, if set, is where Fit draws its progress bar (steps, the last
	// loss, steps per second), e.g. os.Stderr.
	Progress io.Writer

	// stopAfter (tests) interrupts Fit after that many steps of this call.
	stopAfter int
	// hostOptimizer (tests) clips and steps on the host even where a
	// device optimizer would run (see internal/devopt).
	hostOptimizer bool
}

// DefaultFitOptions returns TrainingArguments' defaults (3 epochs, batches
// of 8, learning rate 5e-5 decaying linearly to 0 without warm-up, no weight
// decay, AdamW betas (0.9, 0.999) and epsilon 1e-8, gradient-norm clip 1,
// seed 42) with the input and target lengths of doc2query-T5 (512 and 64
// tokens).
func DefaultFitOptions() FitOptions {
	return FitOptions{Epochs: 3, BatchSize: 8, LearningRate: 5e-5, AdamBeta1: 0.9, AdamBeta2: 0.999,
		AdamEpsilon: 1e-8, MaxGradNorm: 1, Seed: 42, MaxSourceLength: 512, MaxTargetLength: 64}
}

// FitResult is the history of a Fit run.
type FitResult struct {
	// Losses[k] is the loss of step k of the whole run, the steps taken
	// before a resume included.
	Losses []float64
	// GradNorms is the total gradient norm of every completed step, before
	// clipping (the grad_norm Trainer logs).
	GradNorms []float64
	// Steps is how many steps this call took (fewer than len(Losses) when
	// it resumed a run).
	Steps int
}

// errInterrupted is what the stopAfter test hook returns.
var errInterrupted = errors.New("t5: Fit interrupted (test hook)")

// Fit fine-tunes the model on the pairs as transformers' Trainer trains a
// T5ForConditionalGeneration on tokenized (passage, query) pairs: every
// epoch takes the pairs in a new random order (from Seed) in batches of
// BatchSize; each step computes the seq2seq loss (labels = the query's ids,
// padding ignored, decoder inputs = the labels shifted right), back-
// propagates, clips the global gradient norm to MaxGradNorm and takes a
// torch.optim.AdamW step at the learning rate of the linear schedule with
// warm-up (get_linear_schedule_with_warmup). Weight decay spares the
// parameters Trainer spares: names containing "bias" (T5's
// relative_attention_bias among them) and the T5LayerNorm weights. In a
// `cuda` build the clipping and the AdamW step run on the GPU too, with the
// optimizer's moments in device memory for the whole run.
//
// With a CheckpointDir, Fit writes a checkpoint every CheckpointEvery steps
// and at the end; with Resume it continues from the one it finds there. A
// loss that is NaN or infinite stops training with an error naming the
// step. Cancelling ctx stops between steps. On error the result holds the
// steps completed so far. The model is locked while Fit runs; afterwards
// Generate, Score and Save use the trained weights.
//
// Training applies dropout as model.train() does (see
// FitOptions.NoDropout).
func (m *Model) Fit(ctx context.Context, pairs []Pair, opts FitOptions) (FitResult, error) {
	if err := opts.validate(len(pairs)); err != nil {
		return FitResult{}, err
	}
	rate, err := m.dropoutRate(opts)
	if err != nil {
		return FitResult{}, err
	}
	tok := m.Tokenizer()
	if tok == nil {
		return FitResult{}, fmt.Errorf("t5: Fit: %w", errNoTokenizer)
	}
	src, tgt := make([][]int, len(pairs)), make([][]int, len(pairs))
	for i, p := range pairs {
		var err error
		if src[i], err = tok.Encode(p.Passage, opts.MaxSourceLength); err == nil {
			tgt[i], err = tok.Encode(p.Query, opts.MaxTargetLength)
		}
		if err != nil {
			return FitResult{}, fmt.Errorf("t5: Fit: tokenizing pair %d: %w", i, err)
		}
	}

	perEpoch := (len(pairs) + opts.BatchSize - 1) / opts.BatchSize
	total := perEpoch * opts.Epochs
	if opts.MaxSteps > 0 {
		total = opts.MaxSteps
	}
	warmup := opts.WarmupSteps
	if warmup <= 0 {
		warmup = int(math.Ceil(float64(total) * opts.WarmupRatio))
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.mod.weightsChanged()
	tr, err := m.newFitTrainer(opts, rate)
	if err != nil {
		return FitResult{}, err
	}
	defer tr.dev.Close()
	m.fitDev = tr.dev
	defer m.dropFitGraphs()
	run := fitFingerprint(pairs, opts, total, warmup, rate)
	store := &train.Store{Dir: opts.CheckpointDir, Keep: 1}
	var res FitResult
	if opts.CheckpointDir != "" {
		c, err := store.Load()
		if err != nil && !errors.Is(err, train.ErrNoCheckpoint) {
			return res, fmt.Errorf("t5: Fit: reading the checkpoint in %s: %w", opts.CheckpointDir, err)
		}
		if c != nil {
			if res, err = tr.resume(c, run, total, opts); err != nil {
				return FitResult{}, err
			}
		}
	}
	start := len(res.Losses)
	bar := train.NewProgress(opts.Progress, "Fit", start, total, opts.Progress != nil)
	var order []int
	for step := start; step < total; step++ {
		if err := opts.stop(ctx, step-start); err != nil {
			return res, err
		}
		epoch, k := step/perEpoch, step%perEpoch
		if order == nil || k == 0 {
			order = train.Permutation(len(pairs), opts.Seed^uint64(epoch+1)*0x9e3779b97f4a7c15)
		}
		idx := order[k*opts.BatchSize : min((k+1)*opts.BatchSize, len(pairs))]
		ids, labels := make([][]int, len(idx)), make([][]int, len(idx))
		for i, j := range idx {
			ids[i], labels[i] = src[j], tgt[j]
		}
		loss, norm, err := tr.step(ctx, step, ids, labels, opts.LearningRate*optim.WarmupLinear(step, warmup, total))
		if err != nil {
			return res, fmt.Errorf("t5: Fit: step %d (epoch %d): %w", step, epoch, err)
		}
		res.Losses = append(res.Losses, loss)
		res.GradNorms = append(res.GradNorms, norm)
		res.Steps++
		bar.Step(loss)
		if opts.checkpointDue(step+1, total) {
			if err := tr.dev.Download(); err != nil { // a device optimizer's state into tr.opt
				return res, fmt.Errorf("t5: Fit: the checkpoint after step %d: %w", step, err)
			}
			if err := store.Save(tr.checkpoint(step+1, perEpoch, run, res)); err != nil {
				return res, fmt.Errorf("t5: Fit: writing the checkpoint after step %d: %w", step, err)
			}
		}
	}
	bar.Finish()
	return res, nil
}

// stop returns why Fit stops before taking another step after taken steps
// of this call: ctx's error, or the stopAfter test hook's.
func (o FitOptions) stop(ctx context.Context, taken int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if o.stopAfter > 0 && taken == o.stopAfter {
		return errInterrupted
	}
	return nil
}

// checkpointDue reports whether a checkpoint is written once done of total
// steps are complete: every CheckpointEvery steps and at the end.
func (o FitOptions) checkpointDue(done, total int) bool {
	if o.CheckpointDir == "" {
		return false
	}
	return done == total || o.CheckpointEvery > 0 && done%o.CheckpointEvery == 0
}

func (o FitOptions) validate(n int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("t5: Fit: "+format, args...)
	}
	switch {
	case n == 0:
		return bad("no pairs to train on")
	case o.BatchSize <= 0:
		return bad("BatchSize must be positive, got %d", o.BatchSize)
	case o.MaxSteps < 0:
		return bad("MaxSteps must be ≥ 0, got %d", o.MaxSteps)
	case o.MaxSteps == 0 && o.Epochs <= 0:
		return bad("Epochs must be positive (or MaxSteps set), got %d", o.Epochs)
	case !(o.LearningRate >= 0) || math.IsInf(o.LearningRate, 1):
		return bad("LearningRate must be finite and ≥ 0, got %v", o.LearningRate)
	case o.WarmupSteps < 0 || !(o.WarmupRatio >= 0 && o.WarmupRatio <= 1):
		return bad("WarmupSteps must be ≥ 0 and WarmupRatio in [0, 1], got %d and %v", o.WarmupSteps, o.WarmupRatio)
	case !(o.WeightDecay >= 0):
		return bad("WeightDecay must be ≥ 0, got %v", o.WeightDecay)
	case !(o.MaxGradNorm >= 0):
		return bad("MaxGradNorm must be ≥ 0 (0 turns clipping off), got %v", o.MaxGradNorm)
	case o.MaxSourceLength < 0 || o.MaxTargetLength < 0:
		return bad("MaxSourceLength and MaxTargetLength must be ≥ 0 (0: no truncation), got %d and %d", o.MaxSourceLength, o.MaxTargetLength)
	case o.CheckpointEvery < 0:
		return bad("CheckpointEvery must be ≥ 0, got %d", o.CheckpointEvery)
	case o.Resume && o.CheckpointDir == "":
		return bad("Resume needs the CheckpointDir of the run to resume")
	}
	return nil
}

// dropoutRate is the dropout Fit applies: config.json's dropout_rate
// (T5Config's default 0.1 when the file does not set it), 0 for a model
// made with New or with opts.NoDropout.
func (m *Model) dropoutRate(opts FitOptions) (float64, error) {
	b := m.files["config.json"]
	if b == nil || opts.NoDropout {
		return 0, nil
	}
	cfg := struct {
		DropoutRate *float64 `json:"dropout_rate"`
	}{}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return 0, fmt.Errorf("t5: Fit: config.json: %w", err)
	}
	if cfg.DropoutRate == nil {
		return 0.1, nil
	}
	if r := *cfg.DropoutRate; !(r >= 0 && r < 1) {
		return 0, fmt.Errorf("t5: Fit: config.json sets dropout_rate %v; want 0 ≤ dropout_rate < 1 (or set FitOptions.NoDropout)", r)
	}
	return *cfg.DropoutRate, nil
}

// fitTrainer is what a Fit run carries from step to step: AdamW over the
// model's parameters, in named_parameters() order.
type fitTrainer struct {
	m           *Model
	params      []*optim.Param // in m.mod.order
	opt         *optim.AdamW
	maxGradNorm float64
	drop        *nn.Dropout // nil without dropout
	seed        uint64
	// dev clips and steps on the GPU where the graphs run there (nil on
	// the CPU): the training graphs hand it their gradients on the device.
	dev *devopt.Optimizer
}

// newFitTrainer sets up AdamW over the model's parameters in two groups, as
// Trainer.create_optimizer does: weight decay for every parameter outside a
// T5LayerNorm whose name has no "bias", none for the others; and dropout
// at rate. m.mu must be held while it is used.
func (m *Model) newFitTrainer(opts FitOptions, rate float64) (*fitTrainer, error) {
	norms := m.mod.layerNorms()
	tr := &fitTrainer{m: m, maxGradNorm: opts.MaxGradNorm, seed: opts.Seed}
	if rate > 0 {
		tr.drop = nn.NewDropout(rate, opts.Seed)
	}
	if tr.maxGradNorm == 0 {
		tr.maxGradNorm = math.Inf(1) // the norm is still measured
	}
	decay := optim.Group{WeightDecay: opts.WeightDecay}
	none := optim.Group{}
	for _, t := range m.mod.order {
		p := &optim.Param{Name: m.mod.names[t], Data: t.Data}
		tr.params = append(tr.params, p)
		if norms[t] || strings.Contains(p.Name, "bias") {
			none.Params = append(none.Params, p)
		} else {
			decay.Params = append(decay.Params, p)
		}
	}
	var err error
	cfg := optim.Config{Beta1: opts.AdamBeta1, Beta2: opts.AdamBeta2, Eps: opts.AdamEpsilon}
	tr.opt, err = optim.NewAdamW(cfg, decay, none)
	if err != nil {
		return nil, fmt.Errorf("t5: Fit: %w", err)
	}
	if !opts.hostOptimizer {
		if tr.dev, err = devopt.New(tr.opt, cfg, tr.maxGradNorm); err != nil {
			return nil, fmt.Errorf("t5: Fit: %w", err)
		}
	}
	return tr, nil
}

// dropFitGraphs closes the training graphs that fed the device optimizer of
// the Fit that ends, and forgets the optimizer. m.mu must be held.
func (m *Model) dropFitGraphs() {
	if m.fitDev == nil {
		return
	}
	key := devoptKey(m.fitDev)
	for k, c := range m.graphs {
		if strings.HasSuffix(k, key) {
			c.vm.Close()
			delete(m.graphs, k)
		}
	}
	m.fitDev = nil
}

// decayNames lists the parameters the optimizer decays, in
// named_parameters() order (tests).
func (tr *fitTrainer) decayNames() []string {
	var names []string
	for _, p := range tr.opt.Groups()[0].Params {
		names = append(names, p.Name)
	}
	return names
}

// step is training step number step on a batch at learning rate lr: the
// loss and every gradient from the training graph (with that step's dropout
// masks), global gradient-norm clipping and an AdamW update. It returns the
// loss and the gradient norm before clipping, and fails when the loss is
// NaN or infinite.
func (tr *fitTrainer) step(ctx context.Context, step int, ids, labels [][]int, lr float64) (float64, float64, error) {
	tr.drop.Reseed(tr.seed ^ uint64(step+1)*0xbf58476d1ce4e5b9)
	tr.dev.Begin()
	loss, grads, err := tr.m.lossAndGradLocked(ctx, ids, nil, labels, true, tr.drop)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, 0, fmt.Errorf("the loss is %v; lower the learning rate or check the data", loss)
	}
	if tr.dev != nil {
		norm, err := tr.dev.Step(lr)
		return loss, norm, err
	}
	gs := make([][]float32, len(tr.params))
	for i, p := range tr.params {
		g := grads[p.Name]
		if g == nil {
			return loss, 0, fmt.Errorf("t5: internal error: no gradient for %s", p.Name)
		}
		p.Grad, gs[i] = g.Data, g.Data
	}
	norm := optim.ClipGradNorm(gs, tr.maxGradNorm)
	if err := tr.opt.Step(lr); err != nil {
		return loss, norm, err
	}
	for _, p := range tr.params {
		p.Grad = nil
	}
	return loss, norm, nil
}

// layerNorms returns the T5LayerNorm weights: the modules of
// ALL_LAYERNORM_LAYERS, which Trainer does not decay.
func (mod *modules) layerNorms() map[*Tensor]bool {
	out := map[*Tensor]bool{}
	for _, s := range []*stack{mod.encoder, mod.decoder} {
		for _, bl := range s.blocks {
			out[bl.self.norm.Weight] = true
			if bl.cross != nil {
				out[bl.cross.norm.Weight] = true
			}
			out[bl.ff.norm.Weight] = true
		}
		out[s.final.Weight] = true
	}
	return out
}

// weightsChanged drops what the decoder step derived from the weights (their
// packed layouts and their copies on the GPU), after Fit changed the
// weights in place.
func (mod *modules) weightsChanged() {
	mod.packedHead = nil
	mod.dev.weightsChanged()
	for _, s := range []*stack{mod.encoder, mod.decoder} {
		for _, bl := range s.blocks {
			bl.self.attn.packed = nil
			if bl.cross != nil {
				bl.cross.attn.packed = nil
			}
			bl.ff.ff.packed = nil
		}
	}
}

// fitFingerprint identifies a Fit run in its checkpoints' Extra: the pairs
// (by a hash), every setting that shapes the run's trajectory and the
// dropout rate.
func fitFingerprint(pairs []Pair, opts FitOptions, total, warmup int, dropout float64) map[string]string {
	h := sha256.New()
	var n [8]byte
	for _, p := range pairs {
		for _, s := range []string{p.Passage, p.Query} {
			binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
			h.Write(n[:])
			h.Write([]byte(s))
		}
	}
	g := func(xs ...float64) string {
		var parts []string
		for _, x := range xs {
			parts = append(parts, strconv.FormatFloat(x, 'g', -1, 64))
		}
		return strings.Join(parts, " ")
	}
	return map[string]string{
		"pairs":         hex.EncodeToString(h.Sum(nil)),
		"total_steps":   strconv.Itoa(total),
		"batch_size":    strconv.Itoa(opts.BatchSize),
		"seed":          strconv.FormatUint(opts.Seed, 10),
		"learning_rate": g(opts.LearningRate),
		"warmup_steps":  strconv.Itoa(warmup),
		"weight_decay":  g(opts.WeightDecay),
		"adam":          g(opts.AdamBeta1, opts.AdamBeta2, opts.AdamEpsilon),
		"max_grad_norm": g(opts.MaxGradNorm),
		"max_lengths":   fmt.Sprint(opts.MaxSourceLength, opts.MaxTargetLength),
		"dropout":       g(dropout),
	}
}
