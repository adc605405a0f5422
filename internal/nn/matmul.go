package nn

import (
	"fmt"

	"github.com/genq-go/genq/internal/kernel"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul is the matrix product op(a)·op(b), op(x) being x or, with trans,
// its transpose (of the last two axes): [m, k]·[k, n] = [m, n], or batched,
// [B, m, k]·[B, k, n] = [B, m, n] product by product. It runs on
// internal/gemm (float32) whatever BLAS gorgonia was given, and has a
// gradient with respect to both operands.
func MatMul(a, b *G.Node, transA, transB bool, opts ...Option) (*G.Node, error) {
	as, bs := a.Shape(), b.Shape()
	if len(as) != len(bs) || len(as) < 2 || len(as) > 3 || (len(as) == 3 && as[0] != bs[0]) {
		return nil, fmt.Errorf("nn: MatMul needs two matrices or two batches of as many matrices, got %v and %v", as, bs)
	}
	mm := matmulDims(as, bs, transA, transB)
	if mm.k != mm.kb {
		return nil, fmt.Errorf("nn: MatMul of %v (trans %v) and %v (trans %v): inner sizes %d and %d differ", as, transA, bs, transB, mm.k, mm.kb)
	}
	shape := tensor.Shape{mm.m, mm.n}
	if len(as) == 3 {
		shape = tensor.Shape{as[0], mm.m, mm.n}
	}
	name := fmt.Sprintf("MatMul{%v,%v}", transA, transB)
	o, err := newOp(name, a.Dtype(), shape, matmulKernel[float32](transA, transB), matmulKernel[float64](transA, transB), a, b)
	if err != nil {
		return nil, err
	}
	o.gemm = &product{transA: transA, transB: transB, batched: len(as) == 3}
	o.back = func(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
		var da, db *G.Node
		var err error
		// C = op(A)·op(B): d op(A) = dC·op(B)ᵀ, d op(B) = op(A)ᵀ·dC.
		if transA {
			da, err = MatMul(in[1], grad, transB, true) // dA = op(B)·dCᵀ
		} else {
			da, err = MatMul(grad, in[1], false, !transB)
		}
		if err != nil {
			return nil, err
		}
		if transB {
			db, err = MatMul(grad, in[0], true, transA) // dB = dCᵀ·op(A)
		} else {
			db, err = MatMul(in[0], grad, !transA, false)
		}
		return G.Nodes{da, db}, err
	}
	return applyWith(o, opts, a, b)
}

// mmDims are the sizes of a (batched) product.
type mmDims struct{ batch, m, n, k, kb int }

func matmulDims(as, bs tensor.Shape, transA, transB bool) mmDims {
	d := mmDims{batch: 1}
	if len(as) == 3 {
		d.batch, as, bs = as[0], as[1:], bs[1:]
	}
	d.m, d.k = as[0], as[1]
	if transA {
		d.m, d.k = d.k, d.m
	}
	d.kb, d.n = bs[0], bs[1]
	if transB {
		d.kb, d.n = d.n, d.kb
	}
	return d
}

func matmulKernel[T float](transA, transB bool) kfunc {
	return func(in []*tensor.Dense, out *tensor.Dense) error {
		d := matmulDims(in[0].Shape(), in[1].Shape(), transA, transB)
		a, b, c := data[T](in[0]), data[T](in[1]), data[T](out)
		lda, ldb := d.k, d.n
		if transA {
			lda = d.m
		}
		if transB {
			ldb = d.k
		}
		for i := range d.batch {
			kernel.Gemm(transA, transB, d.m, d.n, d.k, 1, a[i*d.m*d.k:], lda, b[i*d.k*d.n:], ldb, 0, c[i*d.m*d.n:], d.n)
		}
		return nil
	}
}
