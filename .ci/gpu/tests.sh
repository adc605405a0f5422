# shellcheck shell=bash
# What genq checks on a GPU, shared by .ci/gpu/run.sh, .ci/gpu/emu/dryrun.sh
# and scripts/gpu-check.sh. Each test binary is one package's own tests,
# built with -tags cuda and run with GENQ_DEVICE=cuda, so that its graphs run
# on the GPU against the same fixtures and tolerances as on the CPU.

# The numeric tests: NAME PACKAGE_DIR -test.run PATTERN.
GPU_TESTS=(
	"t5 t5 ^(TestEncoderHiddenState|TestDecoderLogits|TestLossAndGradients|TestGreedy|TestBeamSearch|TestScoreIDs|TestCachedStepsMatchTeacherForcing|TestStepDecodingInnerDim|TestDeviceGenerationMatchesCPU|TestDeviceWeightsChanged|TestDeviceFreedWithModel|TestTrainGraphOnDevice|TestFitMatchesTrainer|TestFitResume|TestFitDeviceOptimizer)$"
	"encoder encoder ^(TestForward|TestEncode|TestGradients|TestFitStep|TestTrainGraphOnDevice|TestCachedMNRLGradients|TestMarginMSEGradients|TestMarginMSEFitStep|TestCrossEncoderPredict|TestFitDeviceOptimizer|TestFitDeviceResume)$"
	"nn internal/nn ^(TestDeviceProducts|TestDeviceOps)$"
	"kernels internal/cuda/kernels ^Test"
	"devopt internal/devopt ^Test"
)

# The benchmarks run on the CPU and on the GPU, side by side: NAME
# PACKAGE_DIR -test.bench PATTERN (the P1-P3 workloads of BENCHMARKS.md),
# the quicker ones first.
GPU_BENCHES=(
	"encoder encoder ^(BenchmarkP2TrainStep|BenchmarkP3Encode)$"
	"t5 t5 ^BenchmarkP1Generate$"
)
