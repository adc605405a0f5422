package t5

// Compiled graphs. Gorgonia graphs have static shapes, so each kind of pass is
// built once per shape and cached: the encoder per (batch, padded length), the
// teacher-forced seq2seq pass per (batch, encoder length, decoder length), and
// the decoder step per (rows, encoder length, cache length). Sequence lengths
// are padded up to a multiple of lengthBucket; padding is masked, so results
// do not change.

import (
	"fmt"
	"runtime/debug"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/nn"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// lengthBucket is the multiple that sequence lengths are padded up to.
const lengthBucket = 16

// maxCachedGraphs bounds the compiled graphs a Model keeps (least recently
// used ones are dropped), since each holds its intermediate buffers.
const maxCachedGraphs = 12

func roundUp(n, k int) int {
	if n <= 0 {
		return k
	}
	return (n + k - 1) / k * k
}

// compiled is one graph with its machine and named inputs, outputs and gradients.
type compiled struct {
	vm      G.VM
	inputs  map[string]*G.Node
	outputs map[string]*G.Node
	grads   map[string]*G.Node
	reads   map[string]*cuda.Reader // on a GPU, host copies of outputs and grads (see cuda.ReadBack)
	used    int64
}

// graph returns the cached graph under key, building it with build on a miss
// (an inference graph when infer is set, see builder). When the graphs run
// on a GPU (cuda.Enabled) every graph is a training-style graph, all of
// whose ops (internal/nn's and gorgonia's elementwise arithmetic) the CUDA
// machine runs on the device, rather than one of fused inference ops,
// which run on the CPU. The caller holds m.mu.
func (m *Model) graph(key string, infer bool, build func(b *builder) *compiled) (*compiled, error) {
	infer = infer && !cuda.Enabled()
	m.tick++
	if c, ok := m.graphs[key]; ok {
		c.used = m.tick
		return c, nil
	}
	m.builds++
	b := newBuilder(m, infer)
	c, err := func() (c *compiled, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("t5: building graph %s panicked: %v\n%s", key, r, debug.Stack())
			}
		}()
		c = build(b)
		if b.err != nil {
			return nil, fmt.Errorf("t5: building graph %s: %w", key, b.err)
		}
		if cuda.Enabled() {
			c.reads = map[string]*cuda.Reader{}
			for _, nodes := range []map[string]*G.Node{c.outputs, c.grads} {
				for name, n := range nodes {
					r, err := cuda.ReadBack(n)
					if err != nil {
						return nil, fmt.Errorf("t5: graph %s: %w", key, err)
					}
					c.reads[name] = r
				}
			}
		}
		if c.vm, err = cuda.NewMachine(b.g); err != nil {
			return nil, fmt.Errorf("t5: graph %s: %w", key, err)
		}
		return c, nil
	}()
	if err != nil {
		return nil, err
	}
	if m.graphs == nil {
		m.graphs = map[string]*compiled{}
	}
	if len(m.graphs) >= maxCachedGraphs {
		var oldest string
		for k, g := range m.graphs {
			if oldest == "" || g.used < m.graphs[oldest].used {
				oldest = k
			}
		}
		m.graphs[oldest].vm.Close()
		delete(m.graphs, oldest)
	}
	c.used = m.tick
	m.graphs[key] = c
	return c, nil
}

// run binds the inputs, runs the graph and returns copies of the named
// outputs and gradients.
func (c *compiled) run(in map[string]tensor.Tensor, outs ...string) (res map[string][]float32, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("t5: running graph panicked: %v\n%s", r, debug.Stack())
		}
	}()
	for name, v := range in {
		n, ok := c.inputs[name]
		if !ok {
			return nil, fmt.Errorf("t5: internal error: graph has no input %q", name)
		}
		if err := G.Let(n, v); err != nil {
			return nil, fmt.Errorf("t5: binding %s: %w", name, err)
		}
	}
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("t5: running graph: %w", err)
	}
	res = map[string][]float32{}
	for _, name := range outs {
		n, ok := c.outputs[name]
		if !ok {
			n, ok = c.grads[name]
		}
		if !ok {
			return nil, fmt.Errorf("t5: internal error: graph has no output %q", name)
		}
		v, err := f32s(c.reads[name].Value([]*G.Node{n}, 0))
		if err != nil {
			return nil, fmt.Errorf("t5: reading %s: %w", name, err)
		}
		res[name] = append([]float32(nil), v...)
	}
	return res, nil
}

func intTensor(x []int) tensor.Tensor {
	return tensor.New(tensor.WithShape(len(x)), tensor.WithBacking(x))
}

func floatTensor(x []float32, shape ...int) tensor.Tensor {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))
}

// ---------------------------------------------------------------- builder

// builder adds the T5 computation to one graph; the modules' graph and
// forward methods take it. The first error sticks; every method is then a
// no-op that returns nil, so forward code reads without error plumbing and
// the caller checks b.err once.
//
// A builder makes one of two kinds of graph. Training graphs (infer false)
// use differentiable ops only, each returning a fresh output that the
// backward pass can read (the modules' graph methods). Inference graphs
// (infer true) fuse each sublayer into forward-only ops (infer_ops.go) that
// run straight on internal/gemm and write into the Model's reusable
// workspace (workspace.go): the q, k and v projections in one product,
// attention without splitting or merging heads, the ReLU or gated gelu_new
// in the product that feeds it, and the residual sum in the output
// projection (the modules' forward methods). Both compute the arithmetic of
// modeling_t5.py; the tests hold both to the same fixtures.
type builder struct {
	g      *G.ExprGraph
	m      *Model
	cfg    Config
	params map[*Tensor]*G.Node
	err    error

	infer bool        // an inference graph: fused forward-only ops on workspace buffers
	drop  *nn.Dropout // training graphs of Fit: the dropout of modeling_t5.py (nil: none)
	stack string      // the stack being built ("enc", "dec"), which prefixes buffer roles
	turn  int         // which of the stack's two residual-stream buffers comes next
}

func newBuilder(m *Model, infer bool) *builder {
	return &builder{g: G.NewGraph(), m: m, cfg: m.cfg, params: map[*Tensor]*G.Node{}, infer: infer}
}

// out returns where an op writes: in inference graphs the workspace buffer
// of role, which must be unique to the node unless the graph orders every
// reader of the previous value before the next write (see role and
// nextResidual); in training graphs a fresh slice per run.
func (b *builder) out(role string) outBuf {
	if !b.infer {
		return outBuf{}
	}
	return outBuf{b.m.workspace(), role}
}

// role names a buffer shared by the same step of every sublayer of the
// current stack: each sublayer consumes the previous one's output, so the
// readers of one layer's value all run before the next layer writes it.
func (b *builder) role(name string) string { return b.stack + "." + name }

// nextResidual returns the role of the next residual-stream value of the
// current stack. Two buffers alternate: a sublayer reads x from one and
// writes x + f(x) to the other, after which nothing reads the first until
// the next sublayer overwrites it.
func (b *builder) nextResidual() string {
	b.turn ^= 1
	return fmt.Sprintf("%s.x%d", b.stack, b.turn)
}

// project is the inference graphs' fused linear layer: x [N, in] times the
// transposed weights (out_i, in) side by side, times alpha, with act applied
// and, when residual is not nil, residual added; written to the buffer of
// role.
func (b *builder) project(x, residual *G.Node, alpha float32, act activation, role string, weights ...*Tensor) *G.Node {
	var ws []*G.Node
	for _, w := range weights {
		ws = append(ws, b.param(w))
	}
	return b.fusedLinear(alpha, act, b.out(role), x, residual, ws...)
}

func (b *builder) fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

// param returns the node holding a weight, named by its checkpoint key. The
// node's value is the weight's data itself.
func (b *builder) param(t *Tensor) *G.Node {
	if n, ok := b.params[t]; ok {
		return n
	}
	name, ok := b.m.mod.names[t]
	if !ok {
		b.fail(fmt.Errorf("t5: internal error: a weight of shape %v has no name", t.Shape))
		return nil
	}
	v := tensor.New(tensor.WithShape(t.Shape...), tensor.WithBacking(t.Data))
	n := G.NewTensor(b.g, tensor.Float32, len(t.Shape), G.WithShape(t.Shape...), G.WithName(name), G.WithValue(v))
	b.params[t] = n
	return n
}

// input declares a graph input of the given dtype and shape.
func (b *builder) input(name string, dt tensor.Dtype, shape ...int) *G.Node {
	return G.NewTensor(b.g, dt, len(shape), G.WithShape(shape...), G.WithName(name))
}

func (b *builder) call(f func() (*G.Node, error)) *G.Node {
	if b.err != nil {
		return nil
	}
	n, err := f()
	b.fail(err)
	return n
}

func (b *builder) add(x, y *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return G.Add(x, y) })
}

func (b *builder) mul(x, y *G.Node) *G.Node {
	return b.call(func() (*G.Node, error) { return G.HadamardProd(x, y) })
}

func (b *builder) scale(x *G.Node, s float32) *G.Node {
	return b.call(func() (*G.Node, error) { return G.HadamardProd(x, G.NewConstant(s)) })
}

// linear is a bias-free nn.Linear over x [N, in] with the weight w (out,
// in) in PyTorch's layout: x·wᵀ, differentiable.
func (b *builder) linear(x *G.Node, w *Tensor) *G.Node {
	return b.call(func() (*G.Node, error) { return nn.Linear(x, b.param(w), nil) })
}

// dropout is nn.Dropout(dropout_rate) in the training graphs of Fit: x
// itself in every other graph.
func (b *builder) dropout(x *G.Node) *G.Node {
	if b.drop == nil {
		return x
	}
	return b.call(func() (*G.Node, error) { return nn.DropoutOp(x, b.drop) })
}
