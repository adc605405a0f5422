// Package cucheck tests, on a GPU, the CUDA layers beneath gorgonia's `cuda`
// build one by one: the driver API through gorgonia.org/cu, cuBLAS through
// gorgonia.org/cu/blas, and gorgonia's elementwise kernels (PTX from its
// "cuda modules/src/*.cu", compiled by nvcc).
//
// Its tests are built only with the `cucheck` build tag. They need neither
// gorgonia nor cuDNN, so they build wherever the CUDA driver and cuBLAS
// headers are installed, and they tell a failure of those layers apart from a
// failure of gorgonia's own CUDA machine (tested by package
// internal/cuda under the `cuda` tag). .ci/gpu/build.sh builds the test
// binary and .ci/gpu/run.sh runs it on the GPU machine.
package cucheck
