// Package cudnn stands in for gorgonia.org/cu/dnn in genq's `cuda` builds
// (.ci/gpu/build.sh swaps it in with `go build -overlay`). gorgonia's CUDA
// engine only creates and destroys a cuDNN handle; genq's graphs use no cuDNN
// op. Without cuDNN the build needs neither cudnn.h nor libcudnn, and the
// cuDNN 8 API that gorgonia.org/cu/dnn wraps (partly removed in cuDNN 9) no
// longer matters. Importing gorgonia's ops/nn, which does call cuDNN, fails
// to compile against this package.
package cudnn

// Memory is a block of device memory (as in gorgonia.org/cu/dnn).
type Memory interface {
	Uintptr() uintptr
	IsNativelyAccessible() bool
}

// Context stands in for a cuDNN handle: it holds none.
type Context struct{}

// NewContext returns an empty Context.
func NewContext() *Context { return &Context{} }

// Close does nothing: there is no handle to destroy.
func (ctx *Context) Close() error { return nil }
