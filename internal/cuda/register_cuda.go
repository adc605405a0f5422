//go:build cuda

package cuda

import (
	"fmt"
	"os"
	"sync"

	G "gorgonia.org/gorgonia"

	"github.com/genq-go/genq/internal/cuda/kernels"
)

// KernelDirEnv names the environment variable that holds the folder of PTX
// modules RegisterKernelsFromEnv reads.
const KernelDirEnv = "GENQ_CUDA_PTX"

var (
	registeredMu sync.Mutex
	registered   = map[string]bool{}
	// genqRegistered records that genq's own module is in gorgonia's
	// standard library (kept apart from registered, which counts
	// gorgonia's modules for Enabled).
	genqRegistered bool
)

// RegisterKernels reads the PTX modules in dir (see ReadKernels) and adds them
// to gorgonia's CUDA standard library: every TapeMachine created afterwards
// loads them onto its device. Call it once, before creating machines; a
// module name already registered is skipped. It returns the modules it added.
// The first call also adds genq's own kernels (package kernels, module
// "genq", embedded in the build), which it does not return, unless dir
// holds a genq.ptx of its own (genq's kernels compiled by another nvcc),
// which then takes the embedded module's place.
func RegisterKernels(dir string) ([]Kernels, error) {
	mods, err := ReadKernels(dir)
	if err != nil {
		return nil, err
	}
	registeredMu.Lock()
	defer registeredMu.Unlock()
	if !genqRegistered {
		own := false
		for _, m := range mods {
			own = own || m.Module == kernels.ModuleName
		}
		if !own {
			G.AddToStdLib(kernels.ModuleName, kernels.PTX, EntryNames(kernels.PTX))
		}
		genqRegistered = true
	}
	added := mods[:0]
	for _, m := range mods {
		if registered[m.Module] {
			continue
		}
		G.AddToStdLib(m.Module, m.PTX, m.Entries)
		registered[m.Module] = true
		added = append(added, m)
	}
	return added, nil
}

// RegisterKernelsFromEnv calls RegisterKernels with the folder named by the
// GENQ_CUDA_PTX environment variable.
func RegisterKernelsFromEnv() ([]Kernels, error) {
	dir := os.Getenv(KernelDirEnv)
	if dir == "" {
		return nil, fmt.Errorf("cuda: %s is not set: point it at a folder of gorgonia's kernels compiled with `nvcc -ptx` (see .ci/gpu/run.sh)", KernelDirEnv)
	}
	return RegisterKernels(dir)
}
