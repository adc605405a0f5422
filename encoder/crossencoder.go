package encoder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/genq-go/genq/encoder/wordpiece"
	"github.com/genq-go/genq/hub"
	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/nn"
	"github.com/schollz/progressbar/v3"
	G "gorgonia.org/gorgonia"
)

// CrossEncoder is a sentence-transformers CrossEncoder on BERT (transformers'
// BertForSequenceClassification with one label, as
// cross-encoder/ms-marco-MiniLM-L-6-v2): it reads a (query, passage) pair
// as one sequence, [CLS] query [SEP] passage [SEP], and scores it with the
// pooler (dense + tanh on [CLS]) and a linear classifier. The transformer is
// the encoder's BERT, run through the same graphs as Model.
//
// A CrossEncoder is safe for concurrent use; calls to Predict take turns.
type CrossEncoder struct {
	m          *Model // the BERT body (CLS pooling), its tokenizer unused: pairs go through tok
	tok        *wordpiece.Tokenizer
	head       ceHead
	activation Activation
	graphs     map[[2]int]*ceGraph
}

// ceHead is BertForSequenceClassification's head: bert.pooler.dense (with
// tanh) on the [CLS] token, then the classifier Linear(hidden, num_labels).
type ceHead struct {
	pooler, classifier linear
}

// ceGraph is a compiled cross-encoder graph for one (batch, length) shape.
type ceGraph struct {
	vm     G.VM
	in     *batchNodes
	logits *G.Node // [B, 1]
	reads  *cuda.Reader
}

// Activation is the function a CrossEncoder applies to its logits, as
// CrossEncoder's default_activation_function (a torch.nn module).
type Activation int

// The activations a CrossEncoder supports.
const (
	// ActivationDefault, in CrossEncoderOptions, takes the model's
	// activation: the one config.json names (sbert_ce_default_activation_function,
	// or sentence_transformers.activation_fn of newer sentence-transformers
	// releases), else Sigmoid, as CrossEncoder does for one label. In a
	// PredictOption it means the model's activation too.
	ActivationDefault Activation = iota
	// ActivationIdentity returns the raw logits (torch.nn.Identity), as
	// cross-encoder/ms-marco-MiniLM-L-6-v2 is configured.
	ActivationIdentity
	// ActivationSigmoid is 1 / (1 + e^-x) (torch.nn.Sigmoid).
	ActivationSigmoid
	// ActivationTanh is tanh(x) (torch.nn.Tanh).
	ActivationTanh
)

// String returns the activation's torch class, as config.json names it.
func (a Activation) String() string {
	switch a {
	case ActivationDefault:
		return "default"
	case ActivationIdentity:
		return "torch.nn.modules.linear.Identity"
	case ActivationSigmoid:
		return "torch.nn.modules.activation.Sigmoid"
	case ActivationTanh:
		return "torch.nn.modules.activation.Tanh"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// apply returns the activation of x.
func (a Activation) apply(x float32) float32 {
	switch a {
	case ActivationSigmoid:
		return float32(1 / (1 + math.Exp(-float64(x))))
	case ActivationTanh:
		return float32(math.Tanh(float64(x)))
	}
	return x
}

// parseActivation reads a torch class name as CrossEncoder imports it:
// torch.nn.Identity / Sigmoid / Tanh under their short or full module paths.
func parseActivation(name string) (Activation, error) {
	for _, a := range []Activation{ActivationIdentity, ActivationSigmoid, ActivationTanh} {
		full := a.String()
		if name == full || name == "torch.nn."+full[strings.LastIndexByte(full, '.')+1:] {
			return a, nil
		}
	}
	return 0, fmt.Errorf("activation %q is not supported: a CrossEncoder here applies torch.nn.Identity, torch.nn.Sigmoid or torch.nn.Tanh (set CrossEncoderOptions.Activation to override the config)", name)
}

// CrossEncoderOptions configures LoadCrossEncoder.
type CrossEncoderOptions struct {
	// Hub is how a hub id is fetched (see hub.Options; the zero value
	// follows the HF_* environment variables).
	Hub hub.Options
	// MaxLength caps the tokens of a pair, special tokens included, as
	// CrossEncoder's max_length; 0 means the tokenizer's model_max_length
	// capped at max_position_embeddings.
	MaxLength int
	// Activation overrides the model's activation, as CrossEncoder's
	// default_activation_function; ActivationDefault keeps the config's.
	Activation Activation
}

// ceConfig holds the keys of config.json that make a cross-encoder.
type ceConfig struct {
	Architectures []string          `json:"architectures"`
	ID2Label      map[string]string `json:"id2label"`
	NumLabels     *int              `json:"num_labels"`
	Activation    *string           `json:"sbert_ce_default_activation_function"`
	ST            *struct {
		ActivationFn *string `json:"activation_fn"`
	} `json:"sentence_transformers"`
}

// labels is num_labels as transformers' PretrainedConfig derives it: the
// size of id2label, else num_labels, else 2.
func (c ceConfig) labels() int {
	switch {
	case len(c.ID2Label) > 0:
		return len(c.ID2Label)
	case c.NumLabels != nil:
		return *c.NumLabels
	}
	return 2
}

// classifier returns the architecture that makes config.json a
// sequence-classification model (a cross-encoder), or "".
func (c ceConfig) classifier() string {
	for _, a := range c.Architectures {
		if strings.HasSuffix(a, "ForSequenceClassification") {
			return a
		}
	}
	return ""
}

// activation is the activation the config names (ActivationDefault: none).
func (c ceConfig) activation() (Activation, error) {
	name := c.Activation
	if c.ST != nil && c.ST.ActivationFn != nil {
		name = c.ST.ActivationFn
	}
	if name == nil {
		return ActivationDefault, nil
	}
	return parseActivation(*name)
}

// readCEConfig reads the cross-encoder keys of dir/config.json.
func readCEConfig(dir string) (ceConfig, error) {
	var c ceConfig
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("encoder: reading the model config: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("encoder: %s: %v", path, err)
	}
	return c, nil
}

// notCrossEncoder is Load's check that a folder without modules.json is no
// cross-encoder: a sequence-classification checkpoint is scored with
// LoadCrossEncoder, not pooled into embeddings.
func notCrossEncoder(dir string) error {
	c, err := readCEConfig(dir)
	if err != nil {
		return err
	}
	if a := c.classifier(); a != "" {
		return fmt.Errorf("encoder: %s holds a cross-encoder (config.json: %s), which scores (query, passage) pairs instead of embedding texts: load it with encoder.LoadCrossEncoder (to embed with its transformer anyway, add a sentence-transformers modules.json)", dir, a)
	}
	return nil
}

// LoadCrossEncoder reads a cross-encoder, as sentence-transformers'
// CrossEncoder(nameOrDir) does, from a folder or a hub id ("org/name", such
// as "cross-encoder/ms-marco-MiniLM-L-6-v2") at opts.Hub.Revision, fetched
// as Load fetches bi-encoders (see hub.Fetch; ctx bounds the download).
//
// The folder holds a transformers BertForSequenceClassification with one
// label: config.json, the weights (model.safetensors or pytorch_model.bin:
// bert.*, with the pooler, and classifier.*) and a WordPiece tokenizer. Its
// activation is config.json's sbert_ce_default_activation_function (or
// sentence_transformers.activation_fn), else Sigmoid; pairs are truncated at
// opts.MaxLength, else the tokenizer's model_max_length capped at
// max_position_embeddings. A bi-encoder folder (modules.json, or a model
// that is not a sequence classifier) is an error that points to Load.
func LoadCrossEncoder(ctx context.Context, nameOrDir string, opts CrossEncoderOptions) (*CrossEncoder, error) {
	dir, err := hub.Fetch(ctx, nameOrDir, hub.CrossEncoder, opts.Hub)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if fileExists(filepath.Join(dir, "modules.json")) {
		return nil, fmt.Errorf("encoder: %s is a sentence-transformers bi-encoder (it has modules.json), not a cross-encoder: load it with encoder.Load", dir)
	}
	cc, err := readCEConfig(dir)
	if err != nil {
		return nil, err
	}
	if cc.classifier() == "" && len(cc.Architectures) > 0 { // without architectures (old configs), the weights decide
		return nil, fmt.Errorf("encoder: %s is not a cross-encoder: config.json's architectures %q name no BertForSequenceClassification; a bi-encoder (BertModel, DistilBertModel) loads with encoder.Load", dir, cc.Architectures)
	}
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	if cfg.ModelType != "bert" {
		return nil, fmt.Errorf("encoder: %s: cross-encoders on model_type %q are not supported, only BertForSequenceClassification (bert)", dir, cfg.ModelType)
	}
	if n := cc.labels(); n != 1 {
		return nil, fmt.Errorf("encoder: %s: the cross-encoder has %d labels (config.json id2label / num_labels); Predict scores pairs with one label only", dir, n)
	}
	act := opts.Activation
	if act == ActivationDefault {
		if act, err = cc.activation(); err != nil {
			return nil, fmt.Errorf("encoder: %s: %w", filepath.Join(dir, "config.json"), err)
		}
		if act == ActivationDefault {
			act = ActivationSigmoid // CrossEncoder's default for num_labels == 1
		}
	}
	if act < ActivationIdentity || act > ActivationTanh {
		return nil, fmt.Errorf("encoder: unknown activation %v", act)
	}
	w, err := checkpoint.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	body, err := newBert(newVars(w, "bert"), cfg)
	if err != nil {
		return nil, err
	}
	tok, err := wordpiece.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if n := tok.VocabSize(); n > cfg.VocabSize {
		return nil, fmt.Errorf("encoder: the tokenizer in %s has ids up to %d (%q), but config.json's vocab_size is %d: the tokenizer files do not belong to this model",
			dir, n-1, tok.IDToken(n-1), cfg.VocabSize)
	}
	maxLen := opts.MaxLength
	if maxLen == 0 {
		if maxLen, err = maxSeqLength(nil, dir, cfg.MaxPositions); err != nil {
			return nil, err
		}
	} else if maxLen < 0 || maxLen > cfg.MaxPositions {
		return nil, fmt.Errorf("encoder: MaxLength %d must be in [1, %d] (max_position_embeddings), or 0 for the tokenizer's", maxLen, cfg.MaxPositions)
	}
	c, err := newCrossEncoder(body, vars{w: w, path: w.Root(), list: new([]*param)}, tok, maxLen, act)
	if err != nil {
		return nil, fmt.Errorf("encoder: %s: %w", dir, err)
	}
	c.m.unused = w.Unused()
	return c, nil
}

// newCrossEncoder puts the head on body: the pooler that body loaded (or,
// when root makes its weights with init, a new one) and the classifier
// below root.
func newCrossEncoder(body *bert, root vars, tok *wordpiece.Tokenizer, maxLen int, act Activation) (*CrossEncoder, error) {
	h := body.cfg.Hidden
	head := ceHead{pooler: linear{weight: body.pooler.dense.weight, bias: body.pooler.dense.bias}}
	if root.init != nil {
		head.pooler = loadLinear(root.pp("bert").pp("pooler").pp("dense"), h, h)
	}
	if root.init == nil && !root.path.Pp("classifier").Has("weight") {
		return nil, errors.New("the checkpoint has no classifier (classifier.weight): it is no BertForSequenceClassification; a bi-encoder loads with encoder.Load")
	}
	head.classifier = loadLinear(root.pp("classifier"), h, 1)
	if err := root.err(); err != nil {
		return nil, fmt.Errorf("loading the classifier: %w", err)
	}
	if head.pooler.weight == nil || head.pooler.bias == nil {
		return nil, errors.New("the checkpoint has no pooler (bert.pooler.dense.weight and .bias), which BertForSequenceClassification scores [CLS] with")
	}
	m := &Model{cfg: body.cfg, body: body, pooling: Pooling{WordEmbeddingDimension: h, CLSToken: true},
		maxSeqLen: maxLen, graphs: map[[2]int]*inferGraph{}}
	return &CrossEncoder{m: m, tok: tok, head: head, activation: act, graphs: map[[2]int]*ceGraph{}}, nil
}

// Config returns the transformer's architecture.
func (c *CrossEncoder) Config() Config { return *c.m.cfg }

// MaxLength is the number of tokens, special tokens included, that pairs
// are truncated to.
func (c *CrossEncoder) MaxLength() int { return c.m.maxSeqLen }

// Activation is what Predict applies to the logits by default.
func (c *CrossEncoder) Activation() Activation { return c.activation }

// Tokenizer returns the WordPiece tokenizer pairs are encoded with.
func (c *CrossEncoder) Tokenizer() *wordpiece.Tokenizer { return c.tok }

// UnusedWeights lists, sorted, the tensors of the checkpoint that the model
// did not take (see Model.UnusedWeights).
func (c *CrossEncoder) UnusedWeights() []string { return append([]string(nil), c.m.unused...) }

// WithActivation makes CrossEncoder.Predict apply a instead of the model's
// activation (CrossEncoder.predict's activation_fct); ActivationIdentity
// returns the raw logits. Encode rejects it.
func WithActivation(a Activation) EncodeOption { return func(o *encodeOptions) { o.activation = a } }

// Predict scores each (query, passage) pair, in input order, as
// CrossEncoder.predict does: both texts stripped, tokenized as [CLS] query
// [SEP] passage [SEP] with token_type_ids 0 then 1 and longest-first
// truncation at MaxLength, run in batches (longest pairs first; padding does
// not change the scores), the logit of each pair passed through the
// activation. The options are Encode's: WithBatchSize (default 32, as
// predict's batch_size) and WithProgress, and WithActivation; WithNormalize
// is an error. Cancelling ctx stops between batches.
func (c *CrossEncoder) Predict(ctx context.Context, pairs [][2]string, opts ...EncodeOption) ([]float32, error) {
	o := encodeOptions{batchSize: 32}
	for _, f := range opts {
		f(&o)
	}
	if o.batchSize <= 0 {
		return nil, fmt.Errorf("encoder: batch size must be positive, got %d", o.batchSize)
	}
	if o.normalize {
		return nil, errors.New("encoder: WithNormalize applies to embeddings (Model.Encode), not to cross-encoder scores")
	}
	act := o.activation
	if act == ActivationDefault {
		act = c.activation
	}
	if act < ActivationIdentity || act > ActivationTanh {
		return nil, fmt.Errorf("encoder: unknown activation %v", act)
	}
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	size := func(p [2]string) int { return utf8.RuneCountInString(p[0]) + utf8.RuneCountInString(p[1]) }
	sort.SliceStable(order, func(a, b int) bool { return size(pairs[order[a]]) > size(pairs[order[b]]) })
	var bar *progressbar.ProgressBar
	if o.progress != nil {
		bar = progressbar.NewOptions((len(pairs)+o.batchSize-1)/o.batchSize, progressbar.OptionSetWriter(o.progress),
			progressbar.OptionSetDescription("Batches"), progressbar.OptionShowCount())
		defer bar.Close()
	}
	c.m.mu.Lock()
	defer c.m.mu.Unlock()
	out := make([]float32, len(pairs))
	for start := 0; start < len(order); start += o.batchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := order[start:min(start+o.batchSize, len(order))]
		qs, ps := make([]string, len(idx)), make([]string, len(idx))
		for i, j := range idx {
			qs[i], ps[i] = pairs[j][0], pairs[j][1]
		}
		var enc tokenized
		var err error
		if enc.ids, enc.types, enc.mask, err = c.tok.EncodePairBatch(qs, ps, c.m.maxSeqLen); err != nil {
			return nil, fmt.Errorf("encoder: tokenizing: %w", err)
		}
		logits, err := c.logits(enc)
		if err != nil {
			return nil, err
		}
		for i, j := range idx {
			out[j] = act.apply(logits[i])
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	return out, nil
}

// PredictLogits is Predict with ActivationIdentity: the raw logit of each
// pair, as GPL's pseudo labels CE(q, p⁺) − CE(q, p⁻) take them.
func (c *CrossEncoder) PredictLogits(ctx context.Context, pairs [][2]string, opts ...EncodeOption) ([]float32, error) {
	return c.Predict(ctx, pairs, append(opts, WithActivation(ActivationIdentity))...)
}

// logits runs one tokenized batch through the cached graph of its shape and
// returns its logits [B]. c.m.mu must be held.
func (c *CrossEncoder) logits(enc tokenized) ([]float32, error) {
	b := len(enc.ids)
	if b == 0 {
		return nil, errors.New("encoder: empty batch")
	}
	key := [2]int{b, bucket(enc, c.m.maxSeqLen)}
	cg, ok := c.graphs[key]
	if !ok {
		var err error
		if cg, err = c.build(key[0], key[1]); err != nil {
			return nil, err
		}
		c.graphs[key] = cg
	}
	if err := cg.in.bind(enc.ids, enc.types, enc.mask); err != nil {
		return nil, err
	}
	if err := run(cg.vm); err != nil {
		return nil, err
	}
	v := cg.reads.Value([]*G.Node{cg.logits}, 0)
	if v == nil {
		return nil, errors.New("encoder: the cross-encoder graph left its logits unset")
	}
	return v.Data().([]float32), nil
}

// build compiles the graph for b pairs of t tokens: the bi-encoder's
// inference graph (Model.Graph's path, CLS pooling) with the head on top.
func (c *CrossEncoder) build(b, t int) (*ceGraph, error) {
	o := graphOptions{fused: true}
	if !cuda.Enabled() {
		o.packed, o.share = c.m.packs(), true
	}
	gr, err := c.m.graph(G.NewGraph(), o)
	if err != nil {
		return nil, err
	}
	tw, err := gr.forward(b, t, "")
	if err != nil {
		return nil, err
	}
	logits, err := c.head.forward(gr.b, tw.pooled)
	if err != nil {
		return nil, err
	}
	cg := &ceGraph{in: tw.in, logits: logits}
	if cg.reads, err = cuda.ReadBack(logits); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if cg.vm, err = cuda.NewMachine(gr.b.g); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return cg, nil
}

// forward is the head on the [CLS] embeddings cls [B, H]: the pooler's
// tanh(dense(cls)), then the classifier's logits [B, 1].
func (h ceHead) forward(b *builder, cls *G.Node) (*G.Node, error) {
	p, err := nn.Linear(cls, b.node(h.pooler.weight), b.node(h.pooler.bias))
	if err != nil {
		return nil, fmt.Errorf("encoder: pooler: %w", err)
	}
	if p, err = G.Tanh(p); err != nil {
		return nil, fmt.Errorf("encoder: pooler: %w", err)
	}
	logits, err := nn.Linear(p, b.node(h.classifier.weight), b.node(h.classifier.bias))
	if err != nil {
		return nil, fmt.Errorf("encoder: classifier: %w", err)
	}
	return logits, nil
}
