package t5

// T5Block: self-attention, cross-attention in the decoder, feed-forward.

import (
	G "gorgonia.org/gorgonia"
)

// block is a T5Block: layer.0 is T5LayerSelfAttention, then the decoder's
// T5LayerCrossAttention (layer.1), then T5LayerFF (layer.1 in the encoder,
// layer.2 in the decoder).
type block struct {
	self  *attentionLayer // layer.0
	cross *attentionLayer // layer.1 of a decoder block; nil in the encoder
	ff    *ffLayer        // the last layer
}

// loadBlock takes the weights of block i of a stack at v (the stack's
// "block" list); only block 0's self-attention has the position-bias table.
func loadBlock(v vars, cfg Config, i int, isDecoder bool) *block {
	layer := v.index(i).pp("layer")
	bl := &block{self: loadAttentionLayer(layer.index(0), cfg, "SelfAttention", i == 0, isDecoder)}
	next := 1
	if isDecoder {
		bl.cross = loadAttentionLayer(layer.index(1), cfg, "EncDecAttention", false, true)
		next = 2
	}
	bl.ff = loadFFLayer(layer.index(next), cfg)
	return bl
}

// graph adds the block, over x [n·s, d_model] with the self-attention bias
// [n·H, s, s] (and in the decoder the encoder output enc [n·t, d_model] with
// the cross-attention bias [n·H, s, t]), to a training or inference graph;
// i is the block's index in its stack.
func (bl *block) graph(b *builder, x, selfBias, enc, crossBias *G.Node, n, s, t, i int) *G.Node {
	x = bl.self.graphSelf(b, x, selfBias, n, s)
	if bl.cross != nil {
		x = bl.cross.graphCross(b, x, enc, crossBias, n, s, t, i)
	}
	return bl.ff.graph(b, x)
}

// step runs decoder block i on the step's rows st.x in place.
func (bl *block) step(st *stepper, i int) error {
	if err := bl.self.step(st, i, bl.self.attn.stepSelf); err != nil {
		return err
	}
	if err := bl.cross.step(st, i, bl.cross.attn.stepCross); err != nil {
		return err
	}
	bl.ff.step(st)
	return nil
}
