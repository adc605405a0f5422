// A CPU emulator of the CUDA driver API and cuBLAS functions that
// gorgonia's CUDA TapeMachine calls, for dry runs of .ci/gpu's smoke.test on
// a machine without a GPU (see dryrun.sh). It is built as libcuda.so.1, so
// the test binary binds to it instead of the real libraries.
//
// It checks what would fail on a real GPU and could pass silently on a CPU:
// calls made on a thread without a current context (the driver answers
// CUDA_ERROR_INVALID_CONTEXT), kernel, cuBLAS and copy arguments that are
// not device memory (a GPU would fault), and reads or writes past the end of
// a device allocation (each ends just before an inaccessible page: the test
// binary dies with SIGSEGV during cgo execution). Every function it implements logs
// "EMU call NAME" the first time it is called; the other functions the binary
// links abort with "EMU: unimplemented NAME called" (unimplemented.c).
//
// Kernels are their own .cu sources compiled for the CPU (kernels.h):
// gorgonia's, whose parameter sizes come from the PTX handed to
// cuModuleLoadData, run once per thread; genq's (GENQ_KERNEL) run through
// their registered trampolines, each block's threads as cooperative fibers
// (see runBlock), their parameters checked against the PTX's.
#include <dlfcn.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kernels.h"

thread_local dim3 blockIdx, threadIdx, gridDim, blockDim;

namespace {

std::mutex mu;                      // guards the tables below
std::set<std::string> called;       // functions called so far
struct Allocation {
	size_t size;
	void *context;  // the context current when it was allocated
	void *map;      // the mapping that holds it, and its length (see allocate)
	size_t mapped;
};
std::map<uint64_t, Allocation> allocs;  // device allocations by start address
std::set<void *> contexts;          // live contexts
thread_local void *current;         // this thread's current context

void trace(const char *name) {
	std::lock_guard<std::mutex> lock(mu);
	if (called.insert(name).second) fprintf(stderr, "EMU call %s\n", name);
}

// hasContext reports whether the calling thread has a live current context,
// and says so when it has not.
bool hasContext(const char *fn) {
	std::lock_guard<std::mutex> lock(mu);
	if (current && contexts.count(current)) return true;
	fprintf(stderr, "EMU: %s called on a thread without a current context (CUDA_ERROR_INVALID_CONTEXT)\n", fn);
	return false;
}

// deviceCheck aborts unless [p, p+n) lies within one device allocation,
// and reports an allocation made in another context than the current one:
// work on it would be unordered with the work of the context that made it.
void deviceCheck(const char *what, uint64_t p, size_t n) {
	std::lock_guard<std::mutex> lock(mu);
	auto it = allocs.upper_bound(p);
	if (it != allocs.begin()) {
		--it;
		if (p >= it->first && p + n <= it->first + it->second.size) {
			if (it->second.context != current)
				fprintf(stderr, "EMU: %s: memory of context %p used in context %p\n", what, it->second.context, current);
			return;
		}
	}
	fprintf(stderr, "EMU: %s: %#llx (+%zu bytes) is not device memory: a GPU would fault\n", what,
	        (unsigned long long)p, n);
	abort();
}

// deviceToDevice copies n bytes between two device allocations, which may
// overlap, for cuMemcpyDtoD_v2 and cuMemcpy; dstWhat and srcWhat name the
// ends in deviceCheck's messages.
void deviceToDevice(const char *dstWhat, const char *srcWhat, uint64_t dst, uint64_t src, size_t n) {
	deviceCheck(dstWhat, dst, n);
	deviceCheck(srcWhat, src, n);
	memmove((void *)dst, (void *)src, n);
}

// allocate returns n bytes of fresh "device memory": 256-aligned, as the
// driver's are, and placed so that they end less than 256 bytes before an
// inaccessible page, so that a kernel (or cuBLAS) reading or writing past
// the end of an allocation faults here as it may on a GPU.
uint64_t allocate(size_t n) {
	const size_t page = 4096;
	size_t body = (n + page - 1) / page * page;
	size_t mapped = body + page;
	void *map = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "EMU: cannot map %zu bytes of device memory\n", n);
		abort();
	}
	mprotect((char *)map + body, page, PROT_NONE);
	char *p = (char *)map + body - (n + 255) / 256 * 256;
	memset(p, 0xAB, n);  // garbage, as fresh device memory is
	std::lock_guard<std::mutex> lock(mu);
	allocs[(uint64_t)p] = Allocation{n, current, map, mapped};
	return (uint64_t)p;
}

struct Module {
	std::map<std::string, std::vector<int>> params;  // entry → parameter sizes in bytes
};

// Kernel is a GENQ_KERNEL registered by kernels.h at load time.
struct Kernel {
	void *fn;
	genq_emu::Invoker invoke;
	std::vector<genq_emu::Param> params;
};

// kernels returns the registry of GENQ_KERNELs by name (a function-local
// static: registrations run during static initialization).
std::map<std::string, Kernel> &kernels() {
	static std::map<std::string, Kernel> k;
	return k;
}

struct Function {
	std::string name;
	std::vector<int> params;
	void *body;
	const Kernel *kernel;  // a GENQ_KERNEL, or null for gorgonia's kernels
};

// parsePTX reads the .entry declarations of a PTX module.
Module *parsePTX(const char *ptx) {
	Module *m = new Module;
	std::string s(ptx);
	for (size_t pos = 0; (pos = s.find(".entry ", pos)) != std::string::npos;) {
		pos += 7;
		size_t open = s.find('(', pos), close = s.find(')', open);
		if (open == std::string::npos || close == std::string::npos) break;
		std::string params = s.substr(open, close - open);
		std::vector<int> sizes;
		for (size_t q = 0; (q = params.find(".param .", q)) != std::string::npos;) {
			q += 8;
			int bits = atoi(params.c_str() + q + 1);
			sizes.push_back(params[q] == 'f' ? (bits == 64 ? -2 : -1) : bits / 8);
		}
		m->params[s.substr(pos, open - pos)] = sizes;
	}
	return m;
}

// ptxSize is the size code parsePTX records for a C++ parameter: 8 or 4 for
// pointers and integers, -1 for float, -2 for double.
int ptxSize(const genq_emu::Param &p) {
	if (p.floating) return p.size == 8 ? -2 : -1;
	return p.size;
}

// Fibers: the threads of one block of a GENQ_KERNEL, run cooperatively on
// the launching OS thread. A fiber runs until it calls __syncthreads or
// returns; when every fiber of the block has done one or the other, the
// ones waiting at the barrier resume, in thread order.
extern "C" void genq_fiber_switch(void **save, void *to);
// genq_fiber_switch(save, to) saves the callee-saved registers on the
// current stack, stores the stack pointer in *save and continues on stack
// to (x86-64 System V).
asm(R"(
	.text
	.globl genq_fiber_switch
	.type genq_fiber_switch, @function
genq_fiber_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size genq_fiber_switch, .-genq_fiber_switch
)");

enum FiberState { RUNNABLE, AT_BARRIER, DONE };

struct Fiber {
	void *sp;
	char *stack;
	FiberState state;
	dim3 idx;
};

const size_t fiberStack = 256 << 10;  // bytes of stack a fiber has, above a guard page
const size_t guardPage = 4096;

thread_local std::vector<Fiber> fibers;   // this OS thread's fibers, stacks kept
thread_local void *schedulerSP;           // the scheduler's stack while a fiber runs
thread_local Fiber *running;              // the fiber running, null outside a block
thread_local const Function *runningFn;   // the kernel of the block
thread_local void **runningArgs;

// fiberMain is the first frame of every fiber: it runs the kernel as the
// fiber's thread and returns to the scheduler for good.
void fiberMain() {
	runningFn->kernel->invoke(runningFn->body, runningArgs);
	running->state = DONE;
	genq_fiber_switch(&running->sp, schedulerSP);
	abort();  // a finished fiber is never resumed
}

// startFiber prepares f's stack so that switching to it enters fiberMain as
// if called (the stack pointer 8 below a 16-byte boundary).
void startFiber(Fiber &f) {
	uintptr_t top = ((uintptr_t)f.stack + guardPage + fiberStack) & ~(uintptr_t)15;
	void **sp = (void **)top;
	*--sp = nullptr;                          // fiberMain's return address: none
	*--sp = reinterpret_cast<void *>(&fiberMain);  // where genq_fiber_switch returns
	for (int i = 0; i < 6; i++) *--sp = nullptr;  // rbp, rbx, r12-r15
	f.sp = sp;
	f.state = RUNNABLE;
}

// runBlock runs the threads of one block of a GENQ_KERNEL as fibers until
// all have returned.
void runBlock(const Function *fn, void **args, unsigned bx, unsigned by, unsigned bz) {
	size_t n = (size_t)bx * by * bz;
	while (fibers.size() < n) {
		void *mem = mmap(nullptr, guardPage + fiberStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED) {
			fprintf(stderr, "EMU: cannot map a fiber stack\n");
			abort();
		}
		mprotect(mem, guardPage, PROT_NONE);  // a stack overflow faults
		fibers.push_back(Fiber{nullptr, (char *)mem, DONE, {0, 0, 0}});
	}
	runningFn = fn;
	runningArgs = args;
	size_t i = 0;
	for (unsigned tz = 0; tz < bz; tz++) for (unsigned ty = 0; ty < by; ty++) for (unsigned tx = 0; tx < bx; tx++, i++) {
		fibers[i].idx = {tx, ty, tz};
		startFiber(fibers[i]);
	}
	for (size_t live = n; live > 0;) {
		for (i = 0; i < n; i++) {
			Fiber &f = fibers[i];
			if (f.state != RUNNABLE) continue;
			running = &f;
			threadIdx = f.idx;
			genq_fiber_switch(&schedulerSP, f.sp);
			if (f.state == DONE) live--;
		}
		for (i = 0; i < n; i++)
			if (fibers[i].state == AT_BARRIER) fibers[i].state = RUNNABLE;
	}
	running = nullptr;
}

}  // namespace

// registerKernel is called by kernels.h's GENQ_KERNEL at load time.
void genq_emu::registerKernel(const char *name, void *fn, Invoker invoke, const Param *params, int n) {
	kernels()[name] = Kernel{fn, invoke, std::vector<Param>(params, params + n)};
}

void __syncthreads() {
	Fiber *f = running;
	if (!f) {
		fprintf(stderr, "EMU: __syncthreads called outside a GENQ_KERNEL block\n");
		abort();
	}
	f->state = AT_BARRIER;
	genq_fiber_switch(&f->sp, schedulerSP);
}

#define TRACE trace(__func__)
#define NEED_CONTEXT \
	if (!hasContext(__func__)) return 201

extern "C" {

typedef int CUresult;

CUresult cuInit(unsigned) { TRACE; return 0; }
CUresult cuDriverGetVersion(int *v) { TRACE; *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { TRACE; *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) {
	TRACE;
	if (ordinal != 0) return 101;  // CUDA_ERROR_INVALID_DEVICE
	*d = 0;
	return 0;
}
CUresult cuDeviceGetName(char *s, int n, int) { TRACE; snprintf(s, n, "genq CPU emulator"); return 0; }
CUresult cuDeviceComputeCapability(int *major, int *minor, int) { TRACE; *major = 9; *minor = 0; return 0; }
CUresult cuDeviceGetAttribute(int *v, int attr, int) {
	TRACE;
	switch (attr) {  // CUdevice_attribute values
	case 1: *v = 1024; break;                  // MAX_THREADS_PER_BLOCK
	case 2: case 3: *v = 1024; break;          // MAX_BLOCK_DIM_X, _Y
	case 4: *v = 64; break;                    // MAX_BLOCK_DIM_Z
	case 5: *v = 2147483647; break;            // MAX_GRID_DIM_X
	case 6: case 7: *v = 65535; break;         // MAX_GRID_DIM_Y, _Z
	case 10: *v = 32; break;                   // WARP_SIZE
	case 75: *v = 9; break; case 76: *v = 0; break;  // compute capability
	default: *v = 1;
	}
	return 0;
}

CUresult cuCtxCreate_v2(void **ctx, unsigned, int) {
	TRACE;
	*ctx = new int;
	std::lock_guard<std::mutex> lock(mu);
	contexts.insert(*ctx);
	current = *ctx;
	return 0;
}
CUresult cuCtxDestroy_v2(void *ctx) {
	TRACE;
	std::lock_guard<std::mutex> lock(mu);
	if (!contexts.erase(ctx)) return 201;
	if (current == ctx) current = nullptr;
	return 0;
}
CUresult cuCtxSetCurrent(void *ctx) { TRACE; current = ctx; return 0; }
CUresult cuCtxGetCurrent(void **ctx) { TRACE; *ctx = current; return 0; }
CUresult cuCtxPushCurrent_v2(void *ctx) { TRACE; current = ctx; return 0; }
CUresult cuCtxPopCurrent_v2(void **ctx) { TRACE; if (ctx) *ctx = current; current = nullptr; return 0; }
CUresult cuCtxSynchronize() { TRACE; NEED_CONTEXT; return 0; }

CUresult cuMemGetInfo_v2(size_t *free, size_t *total) { TRACE; NEED_CONTEXT; *free = 1ull << 32; *total = 1ull << 33; return 0; }
CUresult cuMemAlloc_v2(uint64_t *p, size_t n) { TRACE; NEED_CONTEXT; *p = allocate(n); return 0; }
CUresult cuMemAllocManaged(uint64_t *p, size_t n, unsigned) { TRACE; NEED_CONTEXT; *p = allocate(n); return 0; }
CUresult cuMemFree_v2(uint64_t p) {
	TRACE;
	NEED_CONTEXT;
	deviceCheck("cuMemFree", p, 0);
	Allocation a;
	{
		std::lock_guard<std::mutex> lock(mu);
		auto it = allocs.find(p);
		if (it == allocs.end()) {
			fprintf(stderr, "EMU: cuMemFree of %#llx, inside an allocation but not its start\n", (unsigned long long)p);
			return 1;  // CUDA_ERROR_INVALID_VALUE
		}
		a = it->second;
		allocs.erase(it);
	}
	munmap(a.map, a.mapped);
	return 0;
}
CUresult cuMemcpyHtoD_v2(uint64_t dst, const void *src, size_t n) {
	TRACE; NEED_CONTEXT;
	deviceCheck("cuMemcpyHtoD destination", dst, n);
	memcpy((void *)dst, src, n);
	return 0;
}
CUresult cuMemcpyDtoH_v2(void *dst, uint64_t src, size_t n) {
	TRACE; NEED_CONTEXT;
	deviceCheck("cuMemcpyDtoH source", src, n);
	memcpy(dst, (void *)src, n);
	return 0;
}
CUresult cuMemcpyDtoD_v2(uint64_t dst, uint64_t src, size_t n) {
	TRACE; NEED_CONTEXT;
	deviceToDevice("cuMemcpyDtoD destination", "cuMemcpyDtoD source", dst, src, n);
	return 0;
}
CUresult cuMemcpy(uint64_t dst, uint64_t src, size_t n) {
	TRACE; NEED_CONTEXT;
	deviceToDevice("cuMemcpy destination", "cuMemcpy source", dst, src, n);
	return 0;
}
// cuMemcpyPeer copies between the memory of two contexts (genq's device
// optimizer takes gradients from a machine's context into its own): each
// end is checked against its own context.
CUresult cuMemcpyPeer(uint64_t dst, void *dstCtx, uint64_t src, void *srcCtx, size_t n) {
	TRACE; NEED_CONTEXT;
	void *was = current;
	current = dstCtx;
	deviceCheck("cuMemcpyPeer destination", dst, n);
	current = srcCtx;
	deviceCheck("cuMemcpyPeer source", src, n);
	current = was;
	memmove((void *)dst, (void *)src, n);
	return 0;
}

CUresult cuModuleLoadData(void **module, const void *image) { TRACE; NEED_CONTEXT; *module = parsePTX((const char *)image); return 0; }
CUresult cuModuleUnload(void *module) { TRACE; NEED_CONTEXT; delete (Module *)module; return 0; }
CUresult cuModuleGetFunction(void **fn, void *module, const char *name) {
	TRACE; NEED_CONTEXT;
	Module *m = (Module *)module;
	auto it = m->params.find(name);
	if (it == m->params.end()) return 500;  // CUDA_ERROR_NOT_FOUND
	auto k = kernels().find(name);
	if (k == kernels().end()) {
		*fn = new Function{name, it->second, dlsym(RTLD_DEFAULT, name), nullptr};
		return 0;
	}
	// A GENQ_KERNEL: its C++ signature must be the PTX entry's.
	const std::vector<int> &ptx = it->second;
	bool same = ptx.size() == k->second.params.size();
	for (size_t i = 0; same && i < ptx.size(); i++) same = ptx[i] == ptxSize(k->second.params[i]);
	if (!same) {
		fprintf(stderr, "EMU: kernel %s: the PTX's parameters differ from the source compiled into the emulator (regenerate genq.ptx with gen.sh)\n", name);
		return 500;
	}
	*fn = new Function{name, ptx, k->second.fn, &k->second};
	return 0;
}

// launchGenq runs a GENQ_KERNEL: its pointer arguments must be null or
// device memory; its blocks run one after another, each as fibers.
static CUresult launchGenq(Function *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                           void **args) {
	if ((size_t)bx * by * bz > 256 || bx * by * bz == 0) {  // genq's kernels keep to 256 threads a block
		fprintf(stderr, "EMU: kernel %s launched with block (%u,%u,%u): genq's kernels take 1 to 256 threads\n",
		        fn->name.c_str(), bx, by, bz);
		return 1;  // CUDA_ERROR_INVALID_VALUE
	}
	for (size_t i = 0; i < fn->kernel->params.size(); i++) {
		if (!fn->kernel->params[i].pointer) continue;
		uint64_t p = *(uint64_t *)args[i];
		if (p) deviceCheck(fn->name.c_str(), p, 1);
	}
	{
		std::lock_guard<std::mutex> lock(mu);
		if (called.insert("kernel " + fn->name).second)
			fprintf(stderr, "EMU kernel %s grid (%u,%u,%u) block (%u,%u,%u)\n", fn->name.c_str(), gx, gy, gz, bx, by, bz);
	}
	gridDim = {gx, gy, gz};
	blockDim = {bx, by, bz};
	for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++) {
		blockIdx = {x, y, z};
		runBlock(fn, args, bx, by, bz);
	}
	return 0;
}

// cuLaunchKernel runs a GENQ_KERNEL by launchGenq, and any other kernel
// once per thread of the grid. It passes the
// (integer and pointer) arguments in registers, as the x86-64 System V ABI
// passes up to six such arguments, so one function type fits every kernel.
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned, void *, void **args, void **) {
	TRACE; NEED_CONTEXT;
	Function *fn = (Function *)f;
	if (fn->kernel) return launchGenq(fn, gx, gy, gz, bx, by, bz, args);
	if (!fn->body || fn->params.size() > 6) {
		fprintf(stderr, "EMU: kernel %s is not compiled into the emulator or has more than 6 parameters\n", fn->name.c_str());
		abort();
	}
	uint64_t a[6] = {0};
	for (size_t i = 0; i < fn->params.size(); i++) {
		switch (fn->params[i]) {
		case 8: a[i] = *(uint64_t *)args[i]; deviceCheck(fn->name.c_str(), a[i], 1); break;  // pointers
		case 4: a[i] = *(uint32_t *)args[i]; break;
		default: fprintf(stderr, "EMU: kernel %s: unsupported parameter %zu\n", fn->name.c_str(), i); abort();
		}
	}
	{
		std::lock_guard<std::mutex> lock(mu);
		if (called.insert("kernel " + fn->name).second)
			fprintf(stderr, "EMU kernel %s grid (%u,%u,%u) block (%u,%u,%u)\n", fn->name.c_str(), gx, gy, gz, bx, by, bz);
	}
	typedef void (*Kernel)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);
	gridDim = {gx, gy, gz};
	blockDim = {bx, by, bz};
	for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++)
		for (unsigned tz = 0; tz < bz; tz++) for (unsigned ty = 0; ty < by; ty++) for (unsigned tx = 0; tx < bx; tx++) {
			blockIdx = {x, y, z};
			threadIdx = {tx, ty, tz};
			((Kernel)fn->body)(a[0], a[1], a[2], a[3], a[4], a[5]);
		}
	return 0;
}

// cuBLAS (column-major, host pointer mode). Like the real library (through
// the CUDA runtime), cublasCreate on a thread without a current context makes
// the device's primary context current there and binds the handle to it. A
// handle used where another context is current is reported: its work would
// run unordered with that context's.
static void *primaryContext;
struct BlasHandle {
	void *context;
};
static bool blasContextCheck(const char *fn, void *h) {
	void *ctx = ((BlasHandle *)h)->context;
	if (ctx == current) return true;
	fprintf(stderr, "EMU: %s: the cuBLAS handle belongs to context %p (%s), the current context is %p\n", fn, ctx,
	        ctx == primaryContext ? "the primary context" : "a created context", current);
	return false;
}
int cublasCreate_v2(void **h) {
	TRACE;
	if (!current) {
		std::lock_guard<std::mutex> lock(mu);
		if (!primaryContext) {
			primaryContext = new int;
			contexts.insert(primaryContext);
		}
		current = primaryContext;
	}
	*h = new BlasHandle{current};
	return 0;
}
int cublasDestroy_v2(void *h) {
	TRACE;
	if (!blasContextCheck(__func__, h)) return 14;  // CUBLAS_STATUS_INTERNAL_ERROR
	delete (BlasHandle *)h;
	return 0;
}
int cublasSetStream_v2(void *h, void *) { TRACE; blasContextCheck(__func__, h); return 0; }
int cublasSgemm_v2(void *h, int transA, int transB, int m, int n, int k, const float *alpha, const float *A, int lda,
                   const float *B, int ldb, const float *beta, float *C, int ldc) {
	TRACE;
	blasContextCheck(__func__, h);
	deviceCheck("cublasSgemm A", (uint64_t)A, 4ull * lda * (transA ? m : k));
	deviceCheck("cublasSgemm B", (uint64_t)B, 4ull * ldb * (transB ? k : n));
	deviceCheck("cublasSgemm C", (uint64_t)C, 4ull * ldc * n);
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			double s = 0;
			for (int p = 0; p < k; p++)
				s += (double)(transA ? A[p + i * lda] : A[i + p * lda]) * (transB ? B[j + p * ldb] : B[p + j * ldb]);
			C[i + j * ldc] = *alpha * (float)s + (*beta == 0 ? 0 : *beta * C[i + j * ldc]);
		}
	return 0;
}

// A += alpha·x·yᵀ, column-major (genq's bias rows).
int cublasSger_v2(void *h, int m, int n, const float *alpha, const float *x, int incx, const float *y, int incy, float *A,
                  int lda) {
	TRACE;
	blasContextCheck(__func__, h);
	deviceCheck("cublasSger x", (uint64_t)x, 4ull * (1 + (m - 1) * incx));
	deviceCheck("cublasSger y", (uint64_t)y, 4ull * (1 + (n - 1) * incy));
	deviceCheck("cublasSger A", (uint64_t)A, 4ull * lda * n);
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) A[i + j * lda] += *alpha * x[i * incx] * y[j * incy];
	return 0;
}

}  // extern "C"
