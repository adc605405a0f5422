//go:build !amd64 || purego

package gemm

func extraKernels() []*kernel { return nil }
