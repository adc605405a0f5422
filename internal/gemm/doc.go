// Package gemm is a fast, pure-Go (no cgo) single-precision matrix
// multiplication for genq. It imports no gorgonia; internal/nn installs it into
// gorgonia and gorgonia.org/tensor.
//
// Sgemm follows the Goto/BLIS scheme: B is packed into kc×nc blocks of
// nr-wide micro-panels, A into mc×kc blocks of mr-tall micro-panels, and a
// register-blocked micro-kernel computes one mr×nr tile of C per call while
// its B micro-panel stays in L1 and the A block in L2. Operands whose rows
// run along k (A untransposed, B transposed — the x·Wᵀ of a Linear layer)
// are packed eight rows at a time by an AVX2 8×8 register transpose. The
// micro-kernel is chosen once at start-up from the CPU's features:
//
//   - AVX-512F: a 12×32 tile in 24 zmm accumulators (kernel_avx512_amd64.s);
//   - AVX2+FMA: a 6×16 tile in 12 ymm accumulators (kernel_avx2_amd64.s);
//   - otherwise, or with the purego build tag, a portable 4×4 Go kernel.
//
// Products of at least 4 MFLOP are split across up to GOMAXPROCS
// goroutines (see SetMaxThreads), each taking a band of rows or columns of C
// with its own pack buffers drawn from a sync.Pool; every element is summed
// in the same order whatever the split, so results do not depend on it.
//
// The assembly is written by hand, not generated: there is nothing to
// regenerate. Each routine documents its register use next to its TEXT
// line, and `go vet ./internal/gemm` checks frame sizes and argument names.
//
// Products that reuse one B with many small A — a layer's weights times a
// few rows of activations at every decoding step — can pack B once with
// PackB and multiply with SgemmPacked, which skips the packing and gives
// Sgemm's bits. SgemmSerial is Sgemm without helper goroutines, for callers
// that already run many small products in parallel.
//
// The package is plain Go (no gorgonia), so that sampling and search may use
// it; internal/nn installs Sgemm as gorgonia's BLAS (nn.BLAS).
package gemm
