//go:build cucheck

package cucheck

import (
	"math"
	"os"
	"runtime"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"

	"github.com/genq-go/genq/internal/cuda"
	"github.com/genq-go/genq/internal/testutil"
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
	require.NoError(t, err, "cuDeviceGetCount")
	require.NotZero(t, n, "cuDeviceGetCount: no device")
	dev, err := cu.GetDevice(0)
	require.NoError(t, err)
	ctx, err := dev.MakeContext(cu.SchedAuto)
	require.NoError(t, err, "cuCtxCreate on device 0")
	defer func() {
		assert.NoError(t, ctx.Destroy(), "cuCtxDestroy")
	}()
	fn()
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
		assert.NoError(t, err, "cuDeviceGetName")
		major, minor, err := dev.ComputeCapability()
		assert.NoError(t, err, "compute capability")
		free, total, err := cu.MemInfo()
		assert.NoError(t, err, "cuMemGetInfo")
		t.Logf("device 0: %s, compute capability %d.%d, %d of %d MiB free", name, major, minor, free>>20, total>>20)
		assert.Positive(t, total, "implausible device report: total memory")
		assert.Positive(t, major, "implausible device report: compute capability %d.%d", major, minor)
	})
}

// TestKernels runs gorgonia's mul_vv_f32 (elembinop) and tanh_f32
// (elemunaryop) kernels, as PTX compiled by nvcc into $GENQ_CUDA_PTX.
func TestKernels(t *testing.T) {
	dir := os.Getenv("GENQ_CUDA_PTX")
	require.NotEmpty(t, dir, "GENQ_CUDA_PTX is not set: point it at the folder of gorgonia's kernels compiled with nvcc -ptx")
	mods, err := cuda.ReadKernels(dir)
	require.NoError(t, err)
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
			require.NotEmpty(t, ptx[module], "no %s.ptx in %s", module, dir)
			mod, err := cu.LoadData(ptx[module])
			require.NoError(t, err, "cuModuleLoadData(%s)", module)
			defer mod.Unload()
			fn, err := mod.Function(kernel)
			require.NoError(t, err, "cuModuleGetFunction(%s.%s)", module, kernel)
			size := int64(n * 4)
			memA, err := cu.MemAlloc(size)
			require.NoError(t, err)
			defer cu.MemFree(memA)
			require.NoError(t, cu.MemcpyHtoD(memA, unsafe.Pointer(&data[0]), size))
			args := []unsafe.Pointer{unsafe.Pointer(&memA)}
			if extra != nil {
				memB, err := cu.MemAlloc(size)
				require.NoError(t, err)
				defer cu.MemFree(memB)
				require.NoError(t, cu.MemcpyHtoD(memB, unsafe.Pointer(&extra[0]), size))
				args = append(args, unsafe.Pointer(&memB))
			}
			count := int64(n)
			args = append(args, unsafe.Pointer(&count))
			const block = 256
			require.NoError(t, fn.Launch((n+block-1)/block, 1, 1, block, 1, 1, 0, cu.NoStream, args), "cuLaunchKernel(%s.%s)", module, kernel)
			require.NoError(t, cu.Synchronize(), "cuCtxSynchronize after %s.%s", module, kernel)
			out := make([]float32, n)
			require.NoError(t, cu.MemcpyDtoH(unsafe.Pointer(&out[0]), memA, size))
			return out
		}

		want := make([]float64, n)
		for i := range want {
			want[i] = float64(a[i]) * float64(b[i])
		}
		testutil.RelClose(t, "elembinop.mul_vv_f32 (GPU against CPU)", run("elembinop", "mul_vv_f32", a, b), want, tol)
		for i := range want {
			want[i] = math.Tanh(float64(a[i]))
		}
		testutil.RelClose(t, "elemunaryop.tanh_f32 (GPU against CPU)", run("elemunaryop", "tanh_f32", a, nil), want, tol)
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
			require.NoError(t, err, "cuMemAllocManaged")
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
		require.NoError(t, impl.Err(), "cublasSgemm")
		require.NoError(t, cu.Synchronize(), "cuCtxSynchronize after cublasSgemm")

		want := make([]float64, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				for p := 0; p < k; p++ {
					want[i*n+j] += float64(a[i*k+p]) * float64(b[p*n+j])
				}
			}
		}
		testutil.RelClose(t, "cublasSgemm (GPU against CPU)", append([]float32(nil), c...), want, tol)
	})
}
