//go:build !cuda

package cuda

import G "gorgonia.org/gorgonia"

// Enabled reports whether genq runs its graphs on a GPU. In this build, made
// without the `cuda` build tag, it is always false.
func Enabled() bool { return false }

// Err reports why genq's graphs cannot run on the GPU; in this build, where
// they run on the CPU by design, it is always nil.
func Err() error { return nil }

// NewMachine returns the machine genq runs g on. In this build it is
// gorgonia's TapeMachine on the CPU, exactly as G.NewTapeMachine(g).
func NewMachine(g *G.ExprGraph) (G.VM, error) { return G.NewTapeMachine(g), nil }

// ReadBack prepares nodes to be read after each run on a GPU. In this build
// values stay on the host and nodes are read directly, so it returns nil and
// adds nothing to the graph.
func ReadBack(nodes ...*G.Node) (*Reader, error) { return nil, nil }
