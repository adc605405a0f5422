//go:build !amd64 || purego

package gemm

// Without amd64 assembly the portable Go kernel is the only one.
