//go:build cucheck

package cucheck

import (
	"math"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"

	"github.com/genq-go/genq/internal/cuda"
)

// tol bounds |gpu - cpu| / max(1, |cpu|) for float32 results checked against
// a float64 CPU reference.
const tol = 1e-5

// withContext runs fn on a locked OS thread with a fresh context on device 0
// current, as the driver API needs, and destroys the context afterwards.
func withContext(t *testing.T, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	n, err := cu.NumDevices()
	if err != nil || n == 0 {
		t.Fatalf("cuDeviceGetCount: %d devices, err %v", n, err)
	}
	dev, err := cu.GetDevice(0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, err := dev.MakeContext(cu.SchedAuto)
	if err != nil {
		t.Fatalf("cuCtxCreate on device 0: %v", err)
	}
	defer func() {
		if err := ctx.Destroy(); err != nil {
			t.Errorf("cuCtxDestroy: %v", err)
		}
	}()
	fn()
}

func compare(t *testing.T, name string, got []float32, want []float64) {
	t.Helper()
	worst, at := 0.0, 0
	for i := range want {
		d := math.Abs(float64(got[i])-want[i]) / math.Max(1, math.Abs(want[i]))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	t.Logf("%s: max |gpu-cpu|/max(1,|cpu|) = %.3g at %d (tolerance %g)", name, worst, at, tol)
	if !(worst <= tol) {
		t.Errorf("%s: value %d is %v on the GPU, %v on the CPU", name, at, got[at], want[at])
	}
}

// deviceSlice views n float32s of managed memory at p as a Go slice, the way
// gorgonia's CUDA engine hands managed memory to cuBLAS.
func deviceSlice(p cu.DevicePtr, n int) []float32 {
	addr := uintptr(p)
	return unsafe.Slice(*(**float32)(unsafe.Pointer(&addr)), n)
}

func TestDriver(t *testing.T) {
	t.Logf("CUDA driver version %d", cu.Version())
	withContext(t, func() {
		dev, _ := cu.GetDevice(0)
		name, err := dev.Name()
		if err != nil {
			t.Errorf("cuDeviceGetName: %v", err)
		}
		major, minor, err := dev.ComputeCapability()
		if err != nil {
			t.Errorf("compute capability: %v", err)
		}
		free, total, err := cu.MemInfo()
		if err != nil {
			t.Errorf("cuMemGetInfo: %v", err)
		}
		t.Logf("device 0: %s, compute capability %d.%d, %d of %d MiB free", name, major, minor, free>>20, total>>20)
		if total <= 0 || major <= 0 {
			t.Errorf("implausible device report: total memory %d, compute capability %d.%d", total, major, minor)
		}
	})
}

// TestKernels runs gorgonia's mul_vv_f32 (elembinop) and tanh_f32
// (elemunaryop) kernels, as PTX compiled by nvcc into $GENQ_CUDA_PTX.
func TestKernels(t *testing.T) {
	dir := os.Getenv("GENQ_CUDA_PTX")
	if dir == "" {
		t.Fatal("GENQ_CUDA_PTX is not set: point it at the folder of gorgonia's kernels compiled with nvcc -ptx")
	}
	mods, err := cuda.ReadKernels(dir)
	if err != nil {
		t.Fatal(err)
	}
	ptx := map[string]string{}
	for _, m := range mods {
		ptx[m.Module] = m.PTX
	}

	const n = 1000 // not a multiple of the block size: the kernels' bounds check runs too
	a, b := make([]float32, n), make([]float32, n)
	for i := range a {
		a[i] = float32(math.Sin(0.01 * float64(i)))
		b[i] = float32(2 - math.Cos(0.03*float64(i)))
	}
	withContext(t, func() {
		run := func(module, kernel string, data []float32, extra []float32) []float32 {
			t.Helper()
			if ptx[module] == "" {
				t.Fatalf("no %s.ptx in %s", module, dir)
			}
			mod, err := cu.LoadData(ptx[module])
			if err != nil {
				t.Fatalf("cuModuleLoadData(%s): %v", module, err)
			}
			defer mod.Unload()
			fn, err := mod.Function(kernel)
			if err != nil {
				t.Fatalf("cuModuleGetFunction(%s.%s): %v", module, kernel, err)
			}
			size := int64(n * 4)
			memA, err := cu.MemAlloc(size)
			if err != nil {
				t.Fatal(err)
			}
			defer cu.MemFree(memA)
			if err := cu.MemcpyHtoD(memA, unsafe.Pointer(&data[0]), size); err != nil {
				t.Fatal(err)
			}
			args := []unsafe.Pointer{unsafe.Pointer(&memA)}
			if extra != nil {
				memB, err := cu.MemAlloc(size)
				if err != nil {
					t.Fatal(err)
				}
				defer cu.MemFree(memB)
				if err := cu.MemcpyHtoD(memB, unsafe.Pointer(&extra[0]), size); err != nil {
					t.Fatal(err)
				}
				args = append(args, unsafe.Pointer(&memB))
			}
			count := int64(n)
			args = append(args, unsafe.Pointer(&count))
			const block = 256
			if err := fn.Launch((n+block-1)/block, 1, 1, block, 1, 1, 0, cu.NoStream, args); err != nil {
				t.Fatalf("cuLaunchKernel(%s.%s): %v", module, kernel, err)
			}
			if err := cu.Synchronize(); err != nil {
				t.Fatalf("cuCtxSynchronize after %s.%s: %v", module, kernel, err)
			}
			out := make([]float32, n)
			if err := cu.MemcpyDtoH(unsafe.Pointer(&out[0]), memA, size); err != nil {
				t.Fatal(err)
			}
			return out
		}

		want := make([]float64, n)
		for i := range want {
			want[i] = float64(a[i]) * float64(b[i])
		}
		compare(t, "elembinop.mul_vv_f32", run("elembinop", "mul_vv_f32", a, b), want)
		for i := range want {
			want[i] = math.Tanh(float64(a[i]))
		}
		compare(t, "elemunaryop.tanh_f32", run("elemunaryop", "tanh_f32", a, nil), want)
	})
}

// TestCuBLAS multiplies row-major matrices with cublasSgemm on managed memory,
// swapping the operands as gorgonia's CUDA engine does (cuBLAS is
// column-major: Cᵀ = Bᵀ·Aᵀ).
func TestCuBLAS(t *testing.T) {
	const m, k, n = 33, 17, 9
	withContext(t, func() {
		alloc := func(count int) (cu.DevicePtr, []float32) {
			p, err := cu.MemAllocManaged(int64(count*4), cu.AttachGlobal)
			if err != nil {
				t.Fatalf("cuMemAllocManaged: %v", err)
			}
			return p, deviceSlice(p, count)
		}
		pa, a := alloc(m * k)
		defer cu.MemFree(pa)
		pb, b := alloc(k * n)
		defer cu.MemFree(pb)
		pc, c := alloc(m * n)
		defer cu.MemFree(pc)
		for i := range a {
			a[i] = float32(0.8 * math.Sin(0.37*float64(i)+0.1))
		}
		for i := range b {
			b[i] = float32(0.5 * math.Cos(0.11*float64(i)-0.3))
		}

		impl := cublas.New()
		defer impl.Close()
		impl.Sgemm(blas.NoTrans, blas.NoTrans, n, m, k, 1, b, n, a, k, 0, c, n)
		if err := impl.Err(); err != nil {
			t.Fatalf("cublasSgemm: %v", err)
		}
		if err := cu.Synchronize(); err != nil {
			t.Fatalf("cuCtxSynchronize after cublasSgemm: %v", err)
		}

		want := make([]float64, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				for p := 0; p < k; p++ {
					want[i*n+j] += float64(a[i*k+p]) * float64(b[p*n+j])
				}
			}
		}
		compare(t, "cublasSgemm", append([]float32(nil), c...), want)
	})
}
