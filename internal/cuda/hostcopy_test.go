package cuda

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestReader checks that a Reader's host copies hold the values their nodes
// had when computed (a matrix and a scalar) and are refreshed by every run,
// on the machine NewMachine makes (the GPU in a `cuda` build); and, on the
// CPU, that they are copies rather than the nodes' own memory and that a nil
// Reader reads the nodes themselves.
func TestReader(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, tensor.Float32, G.WithShape(2, 3), G.WithName("x"))
	y := G.Must(G.HadamardProd(x, G.NewConstant(float32(2))))
	z := G.Must(G.Sum(y))
	nodes := []*G.Node{y, nil, z}
	r, err := newReader(nodes)
	if err != nil {
		t.Fatal(err)
	}
	vm, err := NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	for run, base := range []float32{1, 10} {
		in := []float32{base, base + 1, base + 2, base + 3, base + 4, base + 5}
		if err := G.Let(x, tensor.New(tensor.WithShape(2, 3), tensor.WithBacking(in))); err != nil {
			t.Fatal(err)
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		got := r.Value(nodes, 0).Data().([]float32)
		var sum float32
		for i, v := range in {
			if got[i] != 2*v {
				t.Fatalf("run %d: copy of y[%d] = %v, want %v", run, i, got[i], 2*v)
			}
			sum += 2 * v
		}
		if zv := r.Value(nodes, 2).Data().(float32); zv != sum {
			t.Fatalf("run %d: copy of z = %v, want %v", run, zv, sum)
		}
		if Enabled() { // y's own value is in device memory
			vm.Reset()
			continue
		}
		own := y.Value().Data().([]float32)
		if &own[0] == &got[0] {
			t.Fatalf("run %d: the copy of y shares y's memory", run)
		}
		own[0] = -1
		if got[0] == -1 {
			t.Fatalf("run %d: writing y's value changed its copy", run)
		}
		if v := (*Reader)(nil).Value(nodes, 0); v != y.Value() {
			t.Fatalf("a nil Reader returned %v, want y's own value", v)
		}
		vm.Reset()
	}
}
