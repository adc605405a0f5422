package encoder

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// Config is the architecture of a BERT or DistilBERT model, read from the
// Hugging Face config.json. Both model types map onto the same fields; keys
// missing from the file take the defaults of transformers' BertConfig /
// DistilBertConfig.
//
// As every reader of genq, ParseConfig lets no number it reads size an
// allocation unchecked: the layer count is capped (MaxLayers) and each
// weight shape's element count must fit in an int; the weights file must
// then hold tensors of those shapes, the tokenizer's ids must fit
// vocab_size, and max_seq_length must fit max_position_embeddings.
type Config struct {
	ModelType          string  // "bert" or "distilbert"
	VocabSize          int     // vocab_size
	Hidden             int     // hidden_size (BERT) / dim (DistilBERT)
	Layers             int     // num_hidden_layers / n_layers
	Heads              int     // num_attention_heads / n_heads
	Intermediate       int     // intermediate_size / hidden_dim
	MaxPositions       int     // max_position_embeddings
	TypeVocabSize      int     // type_vocab_size (BERT only; 0 for DistilBERT)
	LayerNormEps       float64 // layer_norm_eps (DistilBERT: always 1e-12)
	HiddenDropout      float64 // hidden_dropout_prob / dropout
	AttentionDropout   float64 // attention_probs_dropout_prob / attention_dropout
	Activation         string  // hidden_act / activation; only "gelu" (exact) is supported
	PositionEmbedding  string  // position_embedding_type (BERT); only "absolute" is supported
	SinusoidalPosEmbds bool    // sinusoidal_pos_embds (DistilBERT); the table is read from the weights either way
}

// bertJSON holds BertConfig's keys with transformers' defaults.
type bertJSON struct {
	VocabSize         int     `json:"vocab_size"`
	HiddenSize        int     `json:"hidden_size"`
	NumHiddenLayers   int     `json:"num_hidden_layers"`
	NumAttentionHeads int     `json:"num_attention_heads"`
	IntermediateSize  int     `json:"intermediate_size"`
	HiddenAct         string  `json:"hidden_act"`
	HiddenDropout     float64 `json:"hidden_dropout_prob"`
	AttentionDropout  float64 `json:"attention_probs_dropout_prob"`
	MaxPositions      int     `json:"max_position_embeddings"`
	TypeVocabSize     int     `json:"type_vocab_size"`
	LayerNormEps      float64 `json:"layer_norm_eps"`
	PositionEmbedding string  `json:"position_embedding_type"`
}

// distilJSON holds DistilBertConfig's keys with transformers' defaults.
type distilJSON struct {
	VocabSize        int     `json:"vocab_size"`
	MaxPositions     int     `json:"max_position_embeddings"`
	Sinusoidal       bool    `json:"sinusoidal_pos_embds"`
	Layers           int     `json:"n_layers"`
	Heads            int     `json:"n_heads"`
	Dim              int     `json:"dim"`
	HiddenDim        int     `json:"hidden_dim"`
	Dropout          float64 `json:"dropout"`
	AttentionDropout float64 `json:"attention_dropout"`
	Activation       string  `json:"activation"`
}

// ReadConfig reads dir/config.json.
func ReadConfig(dir string) (*Config, error) {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("encoder: reading the model config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("encoder: %s: %w", path, err)
	}
	return c, nil
}

// MaxLayers caps num_hidden_layers / n_layers (BERT-large has 24): a layer
// count is checked against it before the loader walks the layers.
const MaxLayers = 1024

// ParseConfig parses the contents of a config.json. It fails for model types
// other than "bert" and "distilbert", for activations other than exact
// "gelu", and for sizes that do not fit together: sizes must be positive,
// layers at most MaxLayers, and the element count of every weight shape the
// sizes imply must fit in an int (each product is checked for overflow; the
// weights file then has to hold the tensors).
func ParseConfig(b []byte) (*Config, error) {
	var head struct {
		ModelType string `json:"model_type"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("config.json is not valid JSON: %v", err)
	}
	var c Config
	switch head.ModelType {
	case "bert":
		j := bertJSON{VocabSize: 30522, HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12,
			IntermediateSize: 3072, HiddenAct: "gelu", HiddenDropout: 0.1, AttentionDropout: 0.1,
			MaxPositions: 512, TypeVocabSize: 2, LayerNormEps: 1e-12, PositionEmbedding: "absolute"}
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, fmt.Errorf("config.json: %v", err)
		}
		c = Config{ModelType: "bert", VocabSize: j.VocabSize, Hidden: j.HiddenSize, Layers: j.NumHiddenLayers,
			Heads: j.NumAttentionHeads, Intermediate: j.IntermediateSize, MaxPositions: j.MaxPositions,
			TypeVocabSize: j.TypeVocabSize, LayerNormEps: j.LayerNormEps, HiddenDropout: j.HiddenDropout,
			AttentionDropout: j.AttentionDropout, Activation: j.HiddenAct, PositionEmbedding: j.PositionEmbedding}
	case "distilbert":
		j := distilJSON{VocabSize: 30522, MaxPositions: 512, Layers: 6, Heads: 12, Dim: 768, HiddenDim: 3072,
			Dropout: 0.1, AttentionDropout: 0.1, Activation: "gelu"}
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, fmt.Errorf("config.json: %v", err)
		}
		c = Config{ModelType: "distilbert", VocabSize: j.VocabSize, Hidden: j.Dim, Layers: j.Layers, Heads: j.Heads,
			Intermediate: j.HiddenDim, MaxPositions: j.MaxPositions, LayerNormEps: 1e-12, HiddenDropout: j.Dropout,
			AttentionDropout: j.AttentionDropout, Activation: j.Activation, SinusoidalPosEmbds: j.Sinusoidal,
			PositionEmbedding: "absolute"}
	case "":
		return nil, fmt.Errorf(`config.json has no "model_type"; the encoder supports "bert" and "distilbert"`)
	default:
		return nil, fmt.Errorf(`model_type %q is not supported; the encoder supports "bert" and "distilbert"`, head.ModelType)
	}
	return &c, c.validate()
}

func (c *Config) validate() error {
	if c.Activation != "gelu" {
		return fmt.Errorf(`activation %q is not supported; BERT and DistilBERT encoders here use exact "gelu"`, c.Activation)
	}
	if c.PositionEmbedding != "absolute" {
		return fmt.Errorf(`position_embedding_type %q is not supported; only "absolute" is`, c.PositionEmbedding)
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"vocab size", c.VocabSize}, {"hidden size", c.Hidden}, {"layer count", c.Layers}, {"head count", c.Heads},
		{"intermediate size", c.Intermediate}, {"max_position_embeddings", c.MaxPositions}} {
		if v.n <= 0 {
			return fmt.Errorf("%s must be positive, got %d", v.name, v.n)
		}
	}
	if c.Layers > MaxLayers {
		return fmt.Errorf("layer count %d is above the %d supported", c.Layers, MaxLayers)
	}
	if c.TypeVocabSize < 0 {
		return fmt.Errorf("type_vocab_size must not be negative, got %d", c.TypeVocabSize)
	}
	for _, w := range []struct {
		name string
		a, b int
	}{{"word embedding (vocab size × hidden size)", c.VocabSize, c.Hidden},
		{"position embedding (max_position_embeddings × hidden size)", c.MaxPositions, c.Hidden},
		{"token type embedding (type_vocab_size × hidden size)", c.TypeVocabSize, c.Hidden},
		{"feed-forward (hidden size × intermediate size)", c.Hidden, c.Intermediate}} {
		if w.b > 0 && w.a > math.MaxInt/w.b {
			return fmt.Errorf("the %s weight would have more elements than an int holds (%d × %d); config.json's sizes are wrong", w.name, w.a, w.b)
		}
	}
	if c.Hidden%c.Heads != 0 {
		return fmt.Errorf("hidden size %d is not a multiple of the %d attention heads", c.Hidden, c.Heads)
	}
	for _, p := range []float64{c.HiddenDropout, c.AttentionDropout} {
		if p < 0 || p >= 1 {
			return fmt.Errorf("dropout probability %g is outside [0, 1)", p)
		}
	}
	return nil
}

// parseModules reads modules.json: the sentence-transformers modules in
// their idx order. A module's path must stay inside the model folder
// (relative, without ".."), as the hub's files do.
func parseModules(b []byte) ([]module, error) {
	var mods []module
	if err := json.Unmarshal(b, &mods); err != nil {
		return nil, err
	}
	for _, m := range mods {
		if m.Path != "" && !filepath.IsLocal(m.Path) {
			return nil, fmt.Errorf("module %q has path %q, outside the model folder; paths are relative to it", m.Name, m.Path)
		}
	}
	sort.SliceStable(mods, func(i, j int) bool { return mods[i].Idx < mods[j].Idx })
	return mods, nil
}

// parsePooling reads a Pooling module's config.json for a model of the given
// hidden size: word_embedding_dimension must equal it. (Load then checks
// that the pooling modes are ones the encoder implements.)
func parsePooling(b []byte, hidden int) (Pooling, error) {
	var p Pooling
	if err := json.Unmarshal(b, &p); err != nil {
		return p, err
	}
	if p.WordEmbeddingDimension != hidden {
		return p, fmt.Errorf("word_embedding_dimension %d differs from the model's hidden size %d", p.WordEmbeddingDimension, hidden)
	}
	return p, nil
}
