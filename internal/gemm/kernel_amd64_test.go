//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// extraKernels lists the assembly kernels this CPU supports besides the
// active one, so that each is tested wherever it can run.
func extraKernels() []*kernel {
	var ks []*kernel
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2Kernel)
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512Kernel)
	}
	var others []*kernel
	for _, k := range ks {
		if k != active {
			others = append(others, k)
		}
	}
	return others
}
