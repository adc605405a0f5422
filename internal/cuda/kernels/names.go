package kernels

// entry identifies one entry point of the genq PTX module.
type entry int

// The kernels of genq.ptx; kernelNames holds their C names, which a
// default-build test compares with the entries of genq.ptx.
const (
	kRMSNorm entry = iota
	kRMSNormBackwardRows
	kLayerNorm
	kLayerNormBackwardRows
	kColSum
	kSoftmax
	kSoftmaxBackward
	kLogSoftmax
	kLogSoftmaxBackward
	kPool
	kPoolBackward
	kDropout
	numKernels
)

var kernelNames = [numKernels]string{
	kRMSNorm:               "genq_rmsnorm",
	kRMSNormBackwardRows:   "genq_rmsnorm_backward_rows",
	kLayerNorm:             "genq_layernorm",
	kLayerNormBackwardRows: "genq_layernorm_backward_rows",
	kColSum:                "genq_colsum",
	kSoftmax:               "genq_softmax",
	kSoftmaxBackward:       "genq_softmax_backward",
	kLogSoftmax:            "genq_log_softmax",
	kLogSoftmaxBackward:    "genq_log_softmax_backward",
	kPool:                  "genq_pool",
	kPoolBackward:          "genq_pool_backward",
	kDropout:               "genq_dropout",
}

// Modes of genq_colsum (GENQ_COLSUM_* in norm.cu).
const (
	colsumPlain = 0
	colsumRMS   = 1
	colsumLN    = 2
)
