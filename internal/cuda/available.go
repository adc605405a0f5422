//go:build !cuda

package cuda

// Built reports whether this binary was built with the `cuda` build tag.
const Built = false

// Available reports whether genq's graphs can run on a GPU. In this build,
// made without the `cuda` build tag, it is always false: rebuild with
// `-tags cuda` (see the package documentation) to use a GPU.
func Available() bool { return false }
