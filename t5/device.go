//go:build !cuda

package t5

// The decoder step's GPU hooks in the default build, where the step runs on
// the CPU (step.go); a `cuda` build runs it on the GPU (step_cuda.go).

// device holds a Model's GPU state in a `cuda` build; in this build there
// is none.
type device struct{}

// weightsChanged drops the GPU's copy of the weights; here there is none.
func (*device) weightsChanged() {}

// deviceStep returns the GPU's step for st; in this build none, so the
// stepper runs on the CPU.
func (m *Model) deviceStep(st *stepper, hidden []float32) (stepDevice, error) { return nil, nil }
