package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
)

// Pooling is sentence-transformers' Pooling module, as its
// 1_Pooling/config.json describes it. Several modes may be on; their vectors
// are concatenated in the order CLS, max, mean, mean_sqrt_len.
type Pooling struct {
	WordEmbeddingDimension int  `json:"word_embedding_dimension"`
	CLSToken               bool `json:"pooling_mode_cls_token"`
	MeanTokens             bool `json:"pooling_mode_mean_tokens"`
	MaxTokens              bool `json:"pooling_mode_max_tokens"`
	MeanSqrtLenTokens      bool `json:"pooling_mode_mean_sqrt_len_tokens"`
	WeightedMeanTokens     bool `json:"pooling_mode_weightedmean_tokens"`
	LastToken              bool `json:"pooling_mode_lasttoken"`
	IncludePrompt          bool `json:"include_prompt"`
}

// MeanPooling is the pooling sentence-transformers gives a plain Hugging
// Face model: the mean of the token embeddings over the attention mask.
func MeanPooling(dim int) Pooling {
	return Pooling{WordEmbeddingDimension: dim, MeanTokens: true, IncludePrompt: true}
}

// PoolMode is one way of reducing a sequence's token embeddings to one
// vector, as a mode of sentence-transformers' Pooling.
type PoolMode int

// The pooling modes Pool supports.
const (
	// PoolMean is Σ mask·x / max(Σ mask, 1e-9) (pooling_mode_mean_tokens).
	PoolMean PoolMode = iota
	// PoolCLS is the first token's embedding (pooling_mode_cls_token).
	PoolCLS
	// PoolMax is the maximum over the tokens of mask 1, the others counting
	// as -1e9 (pooling_mode_max_tokens).
	PoolMax
	// PoolMeanSqrtLen is Σ mask·x / sqrt(max(Σ mask, 1e-9))
	// (pooling_mode_mean_sqrt_len_tokens).
	PoolMeanSqrtLen
)

// String returns the mode's name in sentence-transformers' config keys
// ("mean", "cls", "max", "mean_sqrt_len").
func (m PoolMode) String() string {
	if m < PoolMean || m > PoolMeanSqrtLen {
		return fmt.Sprintf("PoolMode(%d)", int(m))
	}
	return m.nn().String()
}

func (m PoolMode) nn() nn.PoolMode {
	switch m {
	case PoolMean:
		return nn.PoolMean
	case PoolCLS:
		return nn.PoolCLS
	case PoolMax:
		return nn.PoolMax
	case PoolMeanSqrtLen:
		return nn.PoolMeanSqrtLen
	}
	return nn.PoolMode(-1)
}

// Pool reduces token embeddings tokens [B·T, D] (or [B, T, D]) to one vector
// per sequence [B, D] using the 0/1 float mask [B, T] (1 for a token), as
// one mode of sentence-transformers' Pooling does. The mask gets no
// gradient.
func Pool(tokens, mask *G.Node, mode PoolMode) (*G.Node, error) {
	if mode < PoolMean || mode > PoolMeanSqrtLen {
		return nil, fmt.Errorf("encoder: unknown pooling mode %d", int(mode))
	}
	n, err := nn.Pool(tokens, mask, mode.nn())
	if err != nil {
		return nil, fmt.Errorf("encoder: %w", err)
	}
	return n, nil
}

// Modes lists the pooling modes that are on, in sentence-transformers'
// concatenation order; weighted-mean and last-token pooling are not
// supported.
func (p Pooling) Modes() ([]PoolMode, error) {
	if p.WeightedMeanTokens || p.LastToken {
		return nil, fmt.Errorf("encoder: weighted-mean and last-token pooling are not supported (1_Pooling/config.json); use cls, mean, max or mean_sqrt_len")
	}
	var ms []PoolMode
	if p.CLSToken {
		ms = append(ms, PoolCLS)
	}
	if p.MaxTokens {
		ms = append(ms, PoolMax)
	}
	if p.MeanTokens {
		ms = append(ms, PoolMean)
	}
	if p.MeanSqrtLenTokens {
		ms = append(ms, PoolMeanSqrtLen)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("encoder: 1_Pooling/config.json turns on no pooling mode")
	}
	return ms, nil
}

// Dim is the size of the pooled sentence embedding.
func (p Pooling) Dim() int {
	ms, _ := p.Modes()
	return len(ms) * p.WordEmbeddingDimension
}

// Pool builds the sentence embeddings [B, Dim()] of token embeddings tokens
// [B·T, D] under the 0/1 attention mask [B, T]: each mode's vectors,
// concatenated.
func (p Pooling) Pool(tokens, mask *G.Node) (*G.Node, error) {
	ms, err := p.Modes()
	if err != nil {
		return nil, err
	}
	outs := make([]*G.Node, len(ms))
	for i, m := range ms {
		if outs[i], err = Pool(tokens, mask, m); err != nil {
			return nil, err
		}
	}
	if len(outs) == 1 {
		return outs[0], nil
	}
	return G.Concat(1, outs...)
}
