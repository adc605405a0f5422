package t5

// T5Stack: the encoder or the decoder, its blocks sharing the
// relative-position bias of block 0, then the final layer norm.

import (
	G "gorgonia.org/gorgonia"
)

// stack is a T5Stack. Its embed_tokens is the model's shared embedding.
type stack struct {
	blocks    []*block   // block.<i>
	final     *LayerNorm // final_layer_norm
	isDecoder bool
}

// loadStack takes the weights of the encoder or the decoder at v.
func loadStack(v vars, cfg Config, isDecoder bool) *stack {
	n := cfg.NumLayers
	if isDecoder {
		n = cfg.NumDecoderLayers
	}
	s := &stack{isDecoder: isDecoder}
	for i := range n {
		s.blocks = append(s.blocks, loadBlock(v.pp("block"), cfg, i, isDecoder))
	}
	s.final = loadLayerNorm(v.pp("final_layer_norm"), cfg)
	return s
}

// biasAttention returns block 0's self-attention, which holds the stack's relative-position table.
func (s *stack) biasAttention() *Attention { return s.blocks[0].self.attn }

// name is the stack's prefix of workspace roles.
func (s *stack) name() string {
	if s.isDecoder {
		return "dec"
	}
	return "enc"
}

// graph adds the stack over embeddings x [n·s, d_model] to a training or
// inference graph: the self-attention bias [n·H, s, s] comes from block 0's
// table, looked up by buckets [s·s], plus the additive mask [n, s, s]; the
// decoder attends to the encoder output enc [n·t, d_model] with the
// cross-attention bias [n·H, s, t] (enc and crossBias nil in the encoder).
func (st *stack) graph(b *builder, x, buckets, mask, enc, crossBias *G.Node, n, s, t int) *G.Node {
	b.stack = st.name()
	bias := st.biasAttention().biasGraph(b, buckets, mask, st.name()+".bias")
	x = b.dropout(x)
	for i, bl := range st.blocks {
		x = bl.graph(b, x, bias, enc, crossBias, n, s, t, i)
	}
	return b.dropout(st.final.graph(b, x, st.name()+".final"))
}

// stepBias writes the current position's self-attention bias to
// st.selfBias [H, L]: its bias to cache slot j (j <= pos) is the causal
// bucket of j − pos; later slots are unwritten and take no part.
func (s *stack) stepBias(st *stepper) error {
	a := s.biasAttention()
	hh := a.NumHeads
	for j := 0; j <= st.pos; j++ {
		bk := RelativePositionBucket(j-st.pos, false, a.NumBuckets, a.MaxDistance)
		if bk < 0 {
			return bucketError(j-st.pos, false, st.m.cfg)
		}
		for h := 0; h < hh; h++ {
			st.selfBias[h*st.L+j] = a.RelativeAttentionBias.Data[bk*hh+h]
		}
	}
	return nil
}

// step runs the decoder on the step's embedded rows st.x and leaves the
// normed output in st.h.
func (s *stack) step(st *stepper) error {
	if err := s.stepBias(st); err != nil {
		return err
	}
	for i, bl := range s.blocks {
		if err := bl.step(st, i); err != nil {
			return err
		}
	}
	s.final.step(st.h, st.x)
	return nil
}
