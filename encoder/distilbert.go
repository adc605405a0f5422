package encoder

import G "gorgonia.org/gorgonia"

// distilBERT is transformers' DistilBertModel, its fields named after the
// checkpoint's modules: embeddings (word + position, LayerNorm with eps
// 1e-12, dropout; no token types), then the post-LN blocks of
// transformer.layer.
type distilBERT struct {
	cfg        *Config
	embeddings struct {
		wordEmbeddings, positionEmbeddings embedding
		layerNorm                          layerNorm
	}
	transformer struct{ layer []distilLayer }

	all []*param // every weight, in named_parameters order
}

// distilLayer is one TransformerBlock: attention (q/k/v and out_lin
// projections), sa_layer_norm, ffn (lin1, GELU, lin2), output_layer_norm.
type distilLayer struct {
	attention struct {
		qkv    projections // q_lin, k_lin, v_lin
		outLin linear
	}
	saLayerNorm     layerNorm
	ffn             struct{ lin1, lin2 linear }
	outputLayerNorm layerNorm
}

// newDistilBERT builds the model from the weights v gives, in the order of
// PyTorch's named_parameters.
func newDistilBERT(v vars, cfg *Config) (*distilBERT, error) {
	h, f, eps := cfg.Hidden, cfg.Intermediate, cfg.LayerNormEps
	m := &distilBERT{cfg: cfg}
	e := v.pp("embeddings")
	m.embeddings.wordEmbeddings = loadEmbedding(e.pp("word_embeddings"), cfg.VocabSize, h)
	m.embeddings.positionEmbeddings = loadEmbedding(e.pp("position_embeddings"), cfg.MaxPositions, h)
	m.embeddings.layerNorm = loadLayerNorm(e.pp("LayerNorm"), h, eps)
	m.transformer.layer = make([]distilLayer, cfg.Layers)
	for i := range m.transformer.layer {
		l, y := v.pp("transformer").pp("layer").index(i), &m.transformer.layer[i]
		a := l.pp("attention")
		y.attention.qkv = projections{q: loadLinear(a.pp("q_lin"), h, h), k: loadLinear(a.pp("k_lin"), h, h), v: loadLinear(a.pp("v_lin"), h, h)}
		y.attention.outLin = loadLinear(a.pp("out_lin"), h, h)
		y.saLayerNorm = loadLayerNorm(l.pp("sa_layer_norm"), h, eps)
		y.ffn.lin1 = loadLinear(l.pp("ffn").pp("lin1"), h, f)
		y.ffn.lin2 = loadLinear(l.pp("ffn").pp("lin2"), f, h)
		y.outputLayerNorm = loadLayerNorm(l.pp("output_layer_norm"), h, eps)
	}
	m.all = *v.list
	if err := loaded(v, "DistilBERT", func(i int) *projections { return &m.transformer.layer[i].attention.qkv }, len(m.transformer.layer)); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *distilBERT) params() []*param { return m.all }

func (m *distilBERT) words() *param { return m.embeddings.wordEmbeddings.weight }

func (m *distilBERT) extras() []*param { return nil }

func (m *distilBERT) forward(b *builder, in *batchNodes) (*G.Node, error) {
	e := &m.embeddings
	x, err := embed(b, m.cfg, in, e.wordEmbeddings, e.positionEmbeddings, nil, e.layerNorm)
	if err != nil {
		return nil, err
	}
	blocks := make([]block, len(m.transformer.layer))
	for i := range m.transformer.layer {
		y := &m.transformer.layer[i]
		blocks[i] = block{qkv: &y.attention.qkv, attnOut: y.attention.outLin, attnNorm: y.saLayerNorm,
			ff1: y.ffn.lin1, ff2: y.ffn.lin2, outNorm: y.outputLayerNorm, heads: m.cfg.Heads}
	}
	return layers(b, blocks, x, in)
}
