package encoder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/kernel"
	"github.com/genq-go/genq/internal/nn"
	"github.com/schollz/progressbar/v3"
	G "gorgonia.org/gorgonia"
)

// Model is a sentence-transformers bi-encoder: a BERT or DistilBERT
// transformer, a Pooling module and optionally a Normalize module. A Model
// is safe for concurrent use; calls to Encode, Fit and Save take turns.
type Model struct {
	cfg       *Config
	body      transformer
	pooling   Pooling
	normalize bool // a Normalize module follows the pooling
	maxSeqLen int
	lowerCase bool // sentence-transformers' do_lower_case (before the tokenizer)
	tok       Tokenizer
	files     savedFiles
	unused    []string // checkpoint tensors no module took

	mu     sync.Mutex
	graphs map[[2]int]*inferGraph
	// weights reports changes of the weights (Fit) to the inference
	// graphs, which keep their weight matrices packed between runs. It is
	// allocated apart (see packs): the graphs point to it, and a pointer
	// from them back into the Model would close a cycle through gorgonia's
	// values that the garbage collector never frees.
	weights *nn.Weights
}

// UnusedWeights lists, sorted, the tensors of the loaded checkpoint that the
// model did not take — for example the masked-LM head (vocab_transform,
// vocab_projector, ...) of distilbert-base-uncased — as transformers'
// "Some weights of the model checkpoint were not used" warning names them.
// Load accepts such tensors, as sentence-transformers does; a caller that
// expects an exact match can check that this is empty.
func (m *Model) UnusedWeights() []string { return append([]string(nil), m.unused...) }

// packs returns the Weights that the inference graphs' packed weights
// follow. m.mu must be held.
func (m *Model) packs() *nn.Weights {
	if m.weights == nil {
		m.weights = new(nn.Weights)
	}
	return m.weights
}

// savedFiles are the files of the loaded folder that Save writes back as they were.
type savedFiles struct {
	config    []byte            // the HF config.json
	stConfig  []byte            // config_sentence_transformers.json (nil: write a fresh one)
	tokenizer map[string][]byte // vocab.txt, tokenizer_config.json, special_tokens_map.json, ...
}

// tokenizerFiles are the tokenizer files Save copies when the folder has them.
var tokenizerFiles = []string{"vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.json", "added_tokens.json"}

// module is one entry of modules.json.
type module struct {
	Idx  int    `json:"idx"`
	Name string `json:"name"`
	Path string `json:"path"`
	Type string `json:"type"`
}

const (
	stTransformer = "sentence_transformers.models.Transformer"
	stPooling     = "sentence_transformers.models.Pooling"
	stNormalize   = "sentence_transformers.models.Normalize"
)

// stConfig is sentence_bert_config.json.
type stConfig struct {
	MaxSeqLength *int `json:"max_seq_length"`
	DoLowerCase  bool `json:"do_lower_case"`
}

// readModules reads dir/modules.json, or returns nil when there is none.
func readModules(dir string) ([]module, error) {
	path := filepath.Join(dir, "modules.json")
	if !fileExists(path) {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	mods, err := parseModules(b)
	if err != nil {
		return nil, fmt.Errorf("encoder: %s: %w", path, err)
	}
	return mods, nil
}

// maxSeqLength is sentence-transformers' rule: the configured value, else
// min(tokenizer model_max_length, max_position_embeddings).
func maxSeqLength(configured *int, dir string, maxPos int) (int, error) {
	if configured != nil {
		if *configured <= 0 || *configured > maxPos {
			return 0, fmt.Errorf("encoder: sentence_bert_config.json: max_seq_length %d must be in [1, %d] (max_position_embeddings)", *configured, maxPos)
		}
		return *configured, nil
	}
	n := maxPos
	var tc struct {
		ModelMaxLength *float64 `json:"model_max_length"`
	}
	if path := filepath.Join(dir, "tokenizer_config.json"); fileExists(path) {
		if err := readJSON(path, &tc); err != nil {
			return 0, err
		}
		if tc.ModelMaxLength != nil && *tc.ModelMaxLength >= 1 && *tc.ModelMaxLength < float64(n) { // below 1 would truncate to nothing
			n = int(*tc.ModelMaxLength)
		}
	}
	return n, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("encoder: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("encoder: %s: %v", path, err)
	}
	return nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Config returns the transformer's architecture.
func (m *Model) Config() Config { return *m.cfg }

// Pooling returns the pooling module's configuration.
func (m *Model) Pooling() Pooling { return m.pooling }

// MaxSeqLength is the number of tokens, [CLS] and [SEP] included, that inputs
// are truncated to.
func (m *Model) MaxSeqLength() int { return m.maxSeqLen }

// Dim is the size of the sentence embeddings.
func (m *Model) Dim() int { return m.pooling.Dim() }

// encodeOptions are Encode's settings.
type encodeOptions struct {
	batchSize  int
	normalize  bool
	progress   io.Writer
	activation Activation // CrossEncoder.Predict's
}

// EncodeOption changes how Encode works.
type EncodeOption func(*encodeOptions)

// WithBatchSize sets how many texts go through the model at once (default 32).
func WithBatchSize(n int) EncodeOption { return func(o *encodeOptions) { o.batchSize = n } }

// WithNormalize scales each embedding to unit length (sentence-transformers'
// normalize_embeddings=True). Models with a Normalize module always do.
func WithNormalize(on bool) EncodeOption { return func(o *encodeOptions) { o.normalize = on } }

// WithProgress draws a progress bar over the batches on w (e.g. os.Stderr).
func WithProgress(w io.Writer) EncodeOption { return func(o *encodeOptions) { o.progress = w } }

// Encode returns the sentence embedding of each text, in input order, as
// SentenceTransformer.encode does: texts are stripped (and lowercased when
// the model's do_lower_case says so), sorted by length, longest first,
// tokenized in batches, truncated at MaxSeqLength tokens and pooled.
// Padding does not change the results. Cancelling ctx stops between batches.
func (m *Model) Encode(ctx context.Context, texts []string, opts ...EncodeOption) ([][]float32, error) {
	o := encodeOptions{batchSize: 32}
	for _, f := range opts {
		f(&o)
	}
	if o.batchSize <= 0 {
		return nil, fmt.Errorf("encoder: batch size must be positive, got %d", o.batchSize)
	}
	if o.activation != ActivationDefault {
		return nil, errors.New("encoder: WithActivation applies to cross-encoder scores (CrossEncoder.Predict), not to embeddings")
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return utf8.RuneCountInString(texts[order[a]]) > utf8.RuneCountInString(texts[order[b]])
	})
	var bar *progressbar.ProgressBar
	if o.progress != nil {
		bar = progressbar.NewOptions((len(texts)+o.batchSize-1)/o.batchSize, progressbar.OptionSetWriter(o.progress),
			progressbar.OptionSetDescription("Batches"), progressbar.OptionShowCount())
		defer bar.Close()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]float32, len(texts))
	for start := 0; start < len(order); start += o.batchSize {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := order[start:min(start+o.batchSize, len(order))]
		batch := make([]string, len(idx))
		for i, j := range idx {
			batch[i] = texts[j]
		}
		enc, err := m.tokenize(batch)
		if err != nil {
			return nil, err
		}
		_, pooled, err := m.forward(enc)
		if err != nil {
			return nil, err
		}
		dim := len(pooled) / len(idx)
		for i, j := range idx {
			v := append([]float32{}, pooled[i*dim:(i+1)*dim]...)
			if m.normalize || o.normalize {
				normalizeVec(v)
			}
			out[j] = v
		}
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	return out, nil
}

// tokenized is a padded batch of token ids.
type tokenized struct {
	ids, types, mask [][]int
}

// tokenize prepares texts as sentence-transformers' Transformer.tokenize:
// strip, optional lowercasing, then the tokenizer with truncation at
// MaxSeqLength and padding to the longest row.
func (m *Model) tokenize(texts []string) (tokenized, error) {
	clean := make([]string, len(texts))
	for i, t := range texts {
		t = strings.TrimSpace(t)
		if m.lowerCase {
			t = strings.ToLower(t)
		}
		clean[i] = t
	}
	ids, types, mask, err := m.tok.EncodeBatch(clean, m.maxSeqLen)
	if err != nil {
		return tokenized{}, fmt.Errorf("encoder: tokenizing: %w", err)
	}
	tk := tokenized{ids: ids, types: types, mask: mask}
	if err := m.checkTokenized(tk, len(texts)); err != nil {
		return tokenized{}, err
	}
	return tk, nil
}

// normalizeVec scales v to unit L2 norm (v / max(‖v‖, 1e-12)).
func normalizeVec(v []float32) { kernel.L2Normalize(v, v, len(v)) }

// seqBucket is the granularity inference graphs round sequence lengths up
// to, so that a handful of graphs serve every batch.
const seqBucket = 16

// inferGraph is a compiled inference graph for one (batch, length) shape.
type inferGraph struct {
	vm             G.VM
	in             *batchNodes
	tokens, pooled *G.Node      // read after a run from the nodes' values, without a copy
	reads          *cuda.Reader // on a GPU, their host copies (see cuda.ReadBack)
}

// forward runs one tokenized batch through the cached inference graph for
// its shape and returns the token embeddings [B, T', D] (T' the bucketed
// length) and the sentence embeddings [B, dim]. m.mu must be held.
func (m *Model) forward(enc tokenized) (tokens, pooled []float32, err error) {
	b := len(enc.ids)
	if b == 0 {
		return nil, nil, errors.New("encoder: empty batch")
	}
	t := bucket(enc, m.maxSeqLen)
	key := [2]int{b, t}
	ig, ok := m.graphs[key]
	if !ok {
		if ig, err = m.buildInference(b, t, true); err != nil {
			return nil, nil, err
		}
		m.graphs[key] = ig
	}
	if err := ig.in.bind(enc.ids, enc.types, enc.mask); err != nil {
		return nil, nil, err
	}
	if err := run(ig.vm); err != nil {
		return nil, nil, err
	}
	outs := []*G.Node{ig.tokens, ig.pooled}
	tv, pv := ig.reads.Value(outs, 0), ig.reads.Value(outs, 1)
	if tv == nil || pv == nil {
		return nil, nil, errors.New("encoder: the inference graph left its outputs unset")
	}
	return tv.Data().([]float32), pv.Data().([]float32), nil
}

// run executes a machine once, turning a panic inside gorgonia into an error.
func run(vm G.VM) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encoder: graph execution panicked: %v", r)
		}
	}()
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		return fmt.Errorf("encoder: running the graph: %w", err)
	}
	return nil
}

// buildInference builds and compiles the inference graph for b sequences of t
// tokens through the public path (Model.Graph, Forward) with the fused q/k/v
// weights; on the CPU its linear layers keep their weights packed and, with
// share, its layers share their intermediate buffers.
func (m *Model) buildInference(b, t int, share bool) (ig *inferGraph, err error) {
	o := graphOptions{fused: true}
	if !cuda.Enabled() { // on a GPU the products run on cuBLAS, over unpacked weights
		o.packed, o.share = m.packs(), share
	}
	gr, err := m.graph(G.NewGraph(), o)
	if err != nil {
		return nil, err
	}
	tw, err := gr.forward(b, t, "")
	if err != nil {
		return nil, err
	}
	ig = &inferGraph{in: tw.in, tokens: tw.Tokens, pooled: tw.pooled}
	if ig.reads, err = cuda.ReadBack(ig.tokens, ig.pooled); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	if ig.vm, err = cuda.NewMachine(gr.b.g); err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return ig, nil
}
