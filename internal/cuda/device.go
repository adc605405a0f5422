package cuda

import G "gorgonia.org/gorgonia"

// Value returns the host value of nodes[i] after a run: *reads[i] when reads
// (from ReadBack) is not nil, otherwise nodes[i].Value().
func Value(reads []*G.Value, nodes []*G.Node, i int) G.Value {
	if reads != nil && reads[i] != nil && *reads[i] != nil {
		return *reads[i]
	}
	return nodes[i].Value()
}
