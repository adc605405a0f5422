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

// modes lists the pooling modes in sentence-transformers' concatenation order.
func (p Pooling) modes() ([]nn.PoolMode, error) {
	if p.WeightedMeanTokens || p.LastToken {
		return nil, fmt.Errorf("encoder: weighted-mean and last-token pooling are not supported (1_Pooling/config.json); use cls, mean, max or mean_sqrt_len")
	}
	var ms []nn.PoolMode
	if p.CLSToken {
		ms = append(ms, nn.PoolCLS)
	}
	if p.MaxTokens {
		ms = append(ms, nn.PoolMax)
	}
	if p.MeanTokens {
		ms = append(ms, nn.PoolMean)
	}
	if p.MeanSqrtLenTokens {
		ms = append(ms, nn.PoolMeanSqrtLen)
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("encoder: 1_Pooling/config.json turns on no pooling mode")
	}
	return ms, nil
}

// Dim is the size of the pooled sentence embedding.
func (p Pooling) Dim() int {
	ms, _ := p.modes()
	return len(ms) * p.WordEmbeddingDimension
}

// pool builds the sentence embeddings [B, dim] of token embeddings x [B·T, D].
func (p Pooling) pool(x, mask *G.Node) (*G.Node, error) {
	ms, err := p.modes()
	if err != nil {
		return nil, err
	}
	outs := make([]*G.Node, len(ms))
	for i, m := range ms {
		if outs[i], err = nn.Pool(x, mask, m); err != nil {
			return nil, err
		}
	}
	if len(outs) == 1 {
		return outs[0], nil
	}
	return G.Concat(1, outs...)
}
