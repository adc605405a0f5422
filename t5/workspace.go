package t5

// Buffers of the inference graphs and of the decoder step. A tape machine gives every op a fresh
// output on every run and keeps all of them until the next one, which for
// the t5-base encoder on 8 × 256 tokens is gigabytes per pass. The
// forward-only ops of the inference graphs instead write into buffers of
// the Model's workspace, looked up by role: one buffer per role, grown to
// the largest shape asked for and reused by every pass and every graph of
// the Model (passes run one at a time, under Model.mu).
//
// Several nodes share a role only where the graph's dependencies order them:
// within one stack (encoder or decoder) every sublayer consumes the output
// of the one before, so a role's next writer always runs after every reader
// of its previous value (see builder.role). Nodes that the tape machine may
// schedule anywhere — embeddings, biases, the cross-attention keys and
// values of each layer, graph outputs — get roles of their own. The decoder
// step's buffers (roles "step.*") are used only between the encoder pass of
// a generation and its end, while no graph runs.

import (
	"fmt"

	"github.com/genq-go/genq/internal/gemm"
)

// workspace holds the reusable buffers of the inference graphs by role,
// and those of the decoder step: its scratch and the encoder's keys and
// values, packed for every generation into the memory of the last.
type workspace struct {
	bufs   map[string][]float32
	packed map[string][]*gemm.PackedB
}

// packs returns the list of role with n entries: the PackedB values the
// last user left (nil where there were none), to repack with gemm.RepackB.
func (w *workspace) packs(role string, n int) []*gemm.PackedB {
	p := w.packed[role]
	if len(p) != n {
		if w.packed == nil {
			w.packed = map[string][]*gemm.PackedB{}
		}
		p = append(make([]*gemm.PackedB, 0, n), p[:min(n, len(p))]...)
		p = p[:n]
		w.packed[role] = p
	}
	return p
}

// get returns the buffer of role with n elements, growing it when needed.
// Its contents are whatever the last user left.
func (w *workspace) get(role string, n int) []float32 {
	b := w.bufs[role]
	if cap(b) < n {
		if w.bufs == nil {
			w.bufs = map[string][]float32{}
		}
		b = make([]float32, n)
		w.bufs[role] = b
	}
	return b[:n]
}

// bytes returns the memory the workspace holds.
func (w *workspace) bytes() int {
	n := 0
	for _, b := range w.bufs {
		n += 4 * cap(b)
	}
	return n
}

// outBuf is where an op writes its output: a workspace buffer of the given
// role in inference graphs, a fresh slice (ws nil) in training graphs, whose
// values the backward pass reads after later ops have run.
type outBuf struct {
	ws   *workspace
	role string
}

func (o outBuf) alloc(n int) []float32 {
	if o.ws == nil {
		return make([]float32, n)
	}
	return o.ws.get(o.role, n)
}

// tag is the suffix the buffer adds to an op's name (hash): ops writing to
// different roles must not be merged by gorgonia.
func (o outBuf) tag() string {
	if o.ws == nil {
		return ""
	}
	return fmt.Sprintf("@%s", o.role)
}
