package t5

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Config is a T5 config.json. Field names follow the file's keys; keys that
// are missing take the defaults of transformers' T5Config (save_pretrained
// omits values equal to the defaults, so old and new checkpoints both load).
type Config struct {
	Architectures                []string `json:"architectures,omitempty"`
	ModelType                    string   `json:"model_type,omitempty"`
	VocabSize                    int      `json:"vocab_size"`
	DModel                       int      `json:"d_model"`
	DKV                          int      `json:"d_kv"`
	DFF                          int      `json:"d_ff"`
	NumLayers                    int      `json:"num_layers"`
	NumDecoderLayers             int      `json:"num_decoder_layers"`
	NumHeads                     int      `json:"num_heads"`
	RelativeAttentionNumBuckets  int      `json:"relative_attention_num_buckets"`
	RelativeAttentionMaxDistance int      `json:"relative_attention_max_distance"`
	LayerNormEpsilon             float64  `json:"layer_norm_epsilon"`
	FeedForwardProj              string   `json:"feed_forward_proj"`
	TieWordEmbeddings            bool     `json:"tie_word_embeddings"`
	DecoderStartTokenID          int      `json:"decoder_start_token_id"`
	PadTokenID                   int      `json:"pad_token_id"`
	EOSTokenID                   int      `json:"eos_token_id"`
}

// DefaultConfig returns transformers' T5Config() defaults (the t5-small shape).
func DefaultConfig() Config {
	return Config{
		VocabSize:                    32128,
		DModel:                       512,
		DKV:                          64,
		DFF:                          2048,
		NumLayers:                    6,
		NumHeads:                     8,
		RelativeAttentionNumBuckets:  32,
		RelativeAttentionMaxDistance: 128,
		LayerNormEpsilon:             1e-6,
		FeedForwardProj:              "relu",
		TieWordEmbeddings:            true,
		DecoderStartTokenID:          0,
		PadTokenID:                   0,
		EOSTokenID:                   1,
	}
}

// ParseConfig decodes config.json bytes, filling missing keys with
// DefaultConfig's values, and validates the result.
func ParseConfig(data []byte) (Config, error) {
	cfg := DefaultConfig()
	// num_decoder_layers defaults to num_layers, so it needs to know whether it was given.
	var probe struct {
		NumDecoderLayers *int `json:"num_decoder_layers"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("t5: config.json: %w", err)
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return Config{}, fmt.Errorf("t5: config.json: %w", err)
	}
	if probe.NumDecoderLayers == nil {
		cfg.NumDecoderLayers = cfg.NumLayers
	}
	return cfg, cfg.Validate()
}

// LoadConfig reads and validates dir/config.json.
func LoadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("t5: reading the model config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Gated reports whether the feed-forward block is the gated gelu_new variant
// of T5 v1.1 (wi_0, wi_1) rather than the ReLU one of T5 v1.0 (wi).
func (c Config) Gated() bool { return c.FeedForwardProj == "gated-gelu" }

// InnerDim is num_heads × d_kv, the width of the attention projections.
func (c Config) InnerDim() int { return c.NumHeads * c.DKV }

// Validate checks that the config describes a model this package implements.
func (c Config) Validate() error {
	for _, a := range c.Architectures {
		switch a {
		case "T5ForConditionalGeneration", "T5WithLMHeadModel", "MT5ForConditionalGeneration":
		default:
			return fmt.Errorf("t5: architectures lists %q; this package implements T5ForConditionalGeneration only", a)
		}
	}
	if c.ModelType != "" && c.ModelType != "t5" && c.ModelType != "mt5" {
		return fmt.Errorf("t5: model_type is %q, want \"t5\"", c.ModelType)
	}
	switch c.FeedForwardProj {
	case "relu", "gated-gelu":
	default:
		return fmt.Errorf("t5: feed_forward_proj %q is not supported; use \"relu\" (T5 v1.0) or \"gated-gelu\" (T5 v1.1)", c.FeedForwardProj)
	}
	pos := map[string]int{
		"vocab_size": c.VocabSize, "d_model": c.DModel, "d_kv": c.DKV, "d_ff": c.DFF,
		"num_layers": c.NumLayers, "num_decoder_layers": c.NumDecoderLayers, "num_heads": c.NumHeads,
		"relative_attention_num_buckets":  c.RelativeAttentionNumBuckets,
		"relative_attention_max_distance": c.RelativeAttentionMaxDistance,
	}
	var bad []string
	for k, v := range pos {
		if v <= 0 {
			bad = append(bad, fmt.Sprintf("%s=%d", k, v))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("t5: config values must be positive: %s", strings.Join(bad, ", "))
	}
	if c.RelativeAttentionNumBuckets < 4 {
		// The encoder's buckets are split in two directions, each half in
		// exact and logarithmic ones: below 4 the exact part is empty and
		// transformers' _relative_position_bucket divides by zero.
		return fmt.Errorf("t5: relative_attention_num_buckets=%d leaves the encoder no exact bucket per direction (transformers divides by zero there); it must be at least 4 (T5 uses 32)", c.RelativeAttentionNumBuckets)
	}
	if !(c.LayerNormEpsilon > 0) {
		return fmt.Errorf("t5: layer_norm_epsilon must be positive, got %g", c.LayerNormEpsilon)
	}
	for name, id := range map[string]int{"decoder_start_token_id": c.DecoderStartTokenID, "pad_token_id": c.PadTokenID, "eos_token_id": c.EOSTokenID} {
		if id < 0 || id >= c.VocabSize {
			return fmt.Errorf("t5: %s=%d is outside the vocabulary (vocab_size %d)", name, id, c.VocabSize)
		}
	}
	return nil
}
