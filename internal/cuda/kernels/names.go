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
	kFill
	kReLU
	kReLUBackward
	kGELU
	kGELUBackward
	kGELUNew
	kGELUNewBackward
	kGatedGELUNew
	kGatedGELUNewBackward
	kGather
	kScatterAdd
	kPositionBias
	kPositionBiasBackward
	kAttend
	kAttendBackwardRows
	kAttendBackwardKeys
	kXentRows
	kXentCount
	kXentMean
	kXentBackward
	kL2Normalize
	kL2NormalizeBackward
	kAdamW
	kSumSq
	kClipCoef
	kClipScale
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
	kFill:                  "genq_fill",
	kReLU:                  "genq_relu",
	kReLUBackward:          "genq_relu_backward",
	kGELU:                  "genq_gelu",
	kGELUBackward:          "genq_gelu_backward",
	kGELUNew:               "genq_gelu_new",
	kGELUNewBackward:       "genq_gelu_new_backward",
	kGatedGELUNew:          "genq_gated_gelu_new",
	kGatedGELUNewBackward:  "genq_gated_gelu_new_backward",
	kGather:                "genq_gather",
	kScatterAdd:            "genq_scatter_add",
	kPositionBias:          "genq_position_bias",
	kPositionBiasBackward:  "genq_position_bias_backward",
	kAttend:                "genq_attend",
	kAttendBackwardRows:    "genq_attend_backward_rows",
	kAttendBackwardKeys:    "genq_attend_backward_keys",
	kXentRows:              "genq_xent_rows",
	kXentCount:             "genq_xent_count",
	kXentMean:              "genq_xent_mean",
	kXentBackward:          "genq_xent_backward",
	kL2Normalize:           "genq_l2_normalize",
	kL2NormalizeBackward:   "genq_l2_normalize_backward",
	kAdamW:                 "genq_adamw",
	kSumSq:                 "genq_sumsq",
	kClipCoef:              "genq_clip_coef",
	kClipScale:             "genq_clip_scale",
}

// Modes of genq_colsum (GENQ_COLSUM_* in norm.cu).
const (
	colsumPlain = 0
	colsumRMS   = 1
	colsumLN    = 2
)
