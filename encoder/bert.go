package encoder

import G "gorgonia.org/gorgonia"

// bert is transformers' BertModel, its fields named after the checkpoint's
// modules: embeddings (word + token type + position, LayerNorm, dropout),
// then the post-LN layers of encoder.layer. The pooler is loaded and saved
// but not used (sentence-transformers pools the token embeddings).
type bert struct {
	cfg        *Config
	embeddings bertEmbeddings
	encoder    struct{ layer []bertLayer }
	pooler     struct{ dense struct{ weight, bias *param } } // nil weights when the checkpoint has no pooler

	all []*param // the weights the forward pass uses, in named_parameters order
}

// bertEmbeddings is BertEmbeddings.
type bertEmbeddings struct {
	wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings embedding
	layerNorm                                               layerNorm
}

// bertLayer is BertLayer: attention (self-attention's query/key/value and
// the output projection with its LayerNorm), intermediate (GELU) and output.
type bertLayer struct {
	attention struct {
		self   projections // query, key, value
		output struct {
			dense     linear
			layerNorm layerNorm
		}
	}
	intermediate struct{ dense linear }
	output       struct {
		dense     linear
		layerNorm layerNorm
	}
}

// newBert builds the model from the weights v gives, in the order of
// PyTorch's named_parameters.
func newBert(v vars, cfg *Config) (*bert, error) {
	h, f, eps := cfg.Hidden, cfg.Intermediate, cfg.LayerNormEps
	m := &bert{cfg: cfg}
	e := v.pp("embeddings")
	m.embeddings = bertEmbeddings{
		wordEmbeddings:      loadEmbedding(e.pp("word_embeddings"), cfg.VocabSize, h),
		positionEmbeddings:  loadEmbedding(e.pp("position_embeddings"), cfg.MaxPositions, h),
		tokenTypeEmbeddings: loadEmbedding(e.pp("token_type_embeddings"), cfg.TypeVocabSize, h),
		layerNorm:           loadLayerNorm(e.pp("LayerNorm"), h, eps),
	}
	m.encoder.layer = make([]bertLayer, cfg.Layers)
	for i := range m.encoder.layer {
		l, y := v.pp("encoder").pp("layer").index(i), &m.encoder.layer[i]
		a := l.pp("attention")
		s := a.pp("self")
		y.attention.self = projections{q: loadLinear(s.pp("query"), h, h), k: loadLinear(s.pp("key"), h, h), v: loadLinear(s.pp("value"), h, h)}
		y.attention.output.dense = loadLinear(a.pp("output").pp("dense"), h, h)
		y.attention.output.layerNorm = loadLayerNorm(a.pp("output").pp("LayerNorm"), h, eps)
		y.intermediate.dense = loadLinear(l.pp("intermediate").pp("dense"), h, f)
		y.output.dense = loadLinear(l.pp("output").pp("dense"), f, h)
		y.output.layerNorm = loadLayerNorm(l.pp("output").pp("LayerNorm"), h, eps)
	}
	m.all = *v.list
	pd := v.pp("pooler").pp("dense")
	m.pooler.dense.weight, m.pooler.dense.bias = pd.optional("weight", h, h), pd.optional("bias", h)
	if err := loaded(v, "BERT", func(i int) *projections { return &m.encoder.layer[i].attention.self }, len(m.encoder.layer)); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *bert) params() []*param { return m.all }

func (m *bert) words() *param { return m.embeddings.wordEmbeddings.weight }

func (m *bert) extras() []*param {
	if d := m.pooler.dense; d.weight != nil && d.bias != nil {
		return []*param{d.weight, d.bias}
	}
	return nil
}

func (m *bert) forward(b *builder, in *batchNodes) (*G.Node, error) {
	e := &m.embeddings
	x, err := embed(b, m.cfg, in, e.wordEmbeddings, e.positionEmbeddings, &e.tokenTypeEmbeddings, e.layerNorm)
	if err != nil {
		return nil, err
	}
	blocks := make([]block, len(m.encoder.layer))
	for i := range m.encoder.layer {
		y := &m.encoder.layer[i]
		blocks[i] = block{qkv: &y.attention.self, attnOut: y.attention.output.dense, attnNorm: y.attention.output.layerNorm,
			ff1: y.intermediate.dense, ff2: y.output.dense, outNorm: y.output.layerNorm,
			heads: m.cfg.Heads, dropAfterAttnOutProj: true}
	}
	return layers(b, blocks, x, in)
}
