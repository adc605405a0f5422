//go:build !cuda

package nn

import G "gorgonia.org/gorgonia"

// placed returns the Op a graph gets for o: o itself in builds without the
// `cuda` tag, where every op runs on the CPU.
func placed(o *op) G.Op { return o }

// copyViews reports whether view ops must copy: never in builds without the
// `cuda` tag.
func copyViews() bool { return false }
