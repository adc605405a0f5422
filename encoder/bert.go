package encoder

import (
	"fmt"

	"github.com/genq-go/genq/internal/checkpoint"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
)

// bert is transformers' BertModel: embeddings (word + token type + position,
// LayerNorm, dropout), then post-LN encoder layers. The pooler is loaded and
// saved but not used (sentence-transformers pools the token embeddings).
type bert struct {
	cfg                         *Config
	word, pos, typ, embLN, embB *param
	layers                      []bertLayer
	poolerW, poolerB            *param // nil when the checkpoint has no pooler
}

// bertLayer is one BertLayer: self-attention with its output projection and
// LayerNorm, then the intermediate (GELU) and output projections and LayerNorm.
type bertLayer struct {
	q, qb, k, kb, v, vb *param
	qkv, qkvb           *param // q, k, v stacked (fuse): one projection
	ao, aob, aLN, aLNb  *param
	in, inb, out, outb  *param
	outLN, outLNb       *param
}

func loadBert(w *checkpoint.Weights, cfg *Config) (*bert, error) {
	l := &loader{w: w, prefix: "bert."}
	h, f := cfg.Hidden, cfg.Intermediate
	m := &bert{cfg: cfg,
		word:  l.get("embeddings.word_embeddings.weight", cfg.VocabSize, h),
		pos:   l.get("embeddings.position_embeddings.weight", cfg.MaxPositions, h),
		typ:   l.get("embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, h),
		embLN: l.get("embeddings.LayerNorm.weight", h),
		embB:  l.get("embeddings.LayerNorm.bias", h),
	}
	for i := range cfg.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		m.layers = append(m.layers, bertLayer{
			q: l.get(p+"attention.self.query.weight", h, h), qb: l.get(p+"attention.self.query.bias", h),
			k: l.get(p+"attention.self.key.weight", h, h), kb: l.get(p+"attention.self.key.bias", h),
			v: l.get(p+"attention.self.value.weight", h, h), vb: l.get(p+"attention.self.value.bias", h),
			ao: l.get(p+"attention.output.dense.weight", h, h), aob: l.get(p+"attention.output.dense.bias", h),
			aLN: l.get(p+"attention.output.LayerNorm.weight", h), aLNb: l.get(p+"attention.output.LayerNorm.bias", h),
			in: l.get(p+"intermediate.dense.weight", f, h), inb: l.get(p+"intermediate.dense.bias", f),
			out: l.get(p+"output.dense.weight", h, f), outb: l.get(p+"output.dense.bias", h),
			outLN: l.get(p+"output.LayerNorm.weight", h), outLNb: l.get(p+"output.LayerNorm.bias", h),
		})
	}
	m.poolerW = l.optional("pooler.dense.weight", h, h)
	m.poolerB = l.optional("pooler.dense.bias", h)
	if err := l.err(); err != nil {
		return nil, err
	}
	for i := range m.layers {
		y := &m.layers[i]
		y.qkv = fuse(y.q.name+"+k+v", y.q, y.k, y.v)
		y.qkvb = fuse(y.qb.name+"+k+v", y.qb, y.kb, y.vb)
	}
	return m, nil
}

func (m *bert) params() []*param {
	ps := []*param{m.word, m.pos, m.typ, m.embLN, m.embB}
	for _, y := range m.layers {
		ps = append(ps, y.q, y.qb, y.k, y.kb, y.v, y.vb, y.ao, y.aob, y.aLN, y.aLNb,
			y.in, y.inb, y.out, y.outb, y.outLN, y.outLNb)
	}
	return ps
}

func (m *bert) extras() []*param {
	if m.poolerW == nil || m.poolerB == nil {
		return nil
	}
	return []*param{m.poolerW, m.poolerB}
}

func (m *bert) forward(b *builder, in *batchNodes) (*G.Node, error) {
	if in.t > m.cfg.MaxPositions {
		return nil, fmt.Errorf("encoder: %d tokens exceed max_position_embeddings %d", in.t, m.cfg.MaxPositions)
	}
	word, err := b.wordEmbeddings(m.word, in)
	if err != nil {
		return nil, err
	}
	typ, err := nn.Embedding(b.node(m.typ), in.types)
	if err != nil {
		return nil, err
	}
	pos, err := nn.Embedding(b.node(m.pos), in.pos)
	if err != nil {
		return nil, err
	}
	wt, err := G.Add(word, typ)
	if err != nil {
		return nil, err
	}
	x, err := b.addNorm(wt, pos, m.embLN, m.embB, m.cfg.LayerNormEps)
	if err != nil {
		return nil, err
	}
	if x, err = nn.DropoutOp(x, b.hidden); err != nil {
		return nil, err
	}
	for i := range m.layers {
		if x, err = m.layer(b, &m.layers[i], x, in); err != nil {
			return nil, fmt.Errorf("encoder: layer %d: %w", i, err)
		}
	}
	return x, nil
}

// layer is BertLayer.forward: post-LN attention block, then post-LN feed-forward.
func (m *bert) layer(b *builder, y *bertLayer, x *G.Node, in *batchNodes) (_ *G.Node, err error) {
	defer func() {
		if r := recover(); r != nil { // G.Must
			err = fmt.Errorf("%v", r)
		}
	}()
	qkv := b.into("qkv", G.Must(b.linear(x, y.qkv, y.qkvb)))
	ctx := b.into("ctx", G.Must(nn.SelfAttention(qkv, in.addMask, nn.AttentionConfig{Batch: in.b, Heads: m.cfg.Heads, Dropout: b.attnDrp})))
	a := G.Must(nn.DropoutOp(b.into("o", G.Must(b.linear(ctx, y.ao, y.aob))), b.hidden))
	h := b.residual(G.Must(b.addNorm(a, x, y.aLN, y.aLNb, m.cfg.LayerNormEps)))
	f := b.into("gelu", G.Must(nn.GELU(b.into("ff1", G.Must(b.linear(h, y.in, y.inb))))))
	o := G.Must(nn.DropoutOp(b.into("ff2", G.Must(b.linear(f, y.out, y.outb))), b.hidden))
	return b.residual(G.Must(b.addNorm(o, h, y.outLN, y.outLNb, m.cfg.LayerNormEps))), nil
}
