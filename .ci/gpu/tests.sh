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

# The test binaries travel compressed (the device tool carries at most 64 MiB):
# xz where build.sh finds it (a quarter smaller than gzip), else gzip.
# pack_test FILE: FILE → FILE.xz (or FILE.gz), the original removed.
pack_test() {
	if command -v xz >/dev/null; then
		rm -f "$1.gz" && xz -9 -T2 -f "$1"
	else
		rm -f "$1.xz" && gzip -9 -f "$1"
	fi
}
# packed_test BASE: prints BASE.xz or BASE.gz, whichever exists; false if neither.
packed_test() {
	local f
	for f in "$1.xz" "$1.gz"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}
# unpack_test BASE DEST: the binary BASE.xz or BASE.gz, unpacked into DEST and
# made executable; false when neither exists. Without xz, Python's lzma reads
# the .xz (the GPU machine has Python for PyTorch).
unpack_test() {
	local src
	src=$(packed_test "$1") || return 1
	case $src in
	*.xz)
		if command -v xz >/dev/null; then
			xz -dc "$src" >"$2"
		else
			python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$src" "$2"
		fi ;;
	*) gunzip -c "$src" >"$2" ;;
	esac && chmod +x "$2"
}
