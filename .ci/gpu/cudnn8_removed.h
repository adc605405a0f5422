/*
 * cuDNN 8 declarations that gorgonia.org/cu/dnn v0.9.4 uses and cuDNN 9
 * removed (the algorithm descriptor/performance API, persistent RNN plans and
 * the v6-era RNN parameter queries). .ci/gpu/build.sh includes this after
 * <cudnn.h> and defines GENQ_CUDNN_HAS_<name> for each name the cuDNN headers
 * still declare, so only the missing ones are declared here.
 *
 * They exist so that gorgonia.org/cu/dnn compiles against cuDNN 9; genq's
 * graphs never call them (the binary binds functions lazily, so an absent
 * symbol matters only if it were called). A lasting fix is a fork of
 * gorgonia.org/cu ported to cuDNN 9, wired in with a replace directive.
 */
#ifndef GENQ_CUDNN8_REMOVED_H
#define GENQ_CUDNN8_REMOVED_H

#include <stddef.h>

#ifndef GENQ_CUDNN_HAS_cudnnAlgorithmDescriptor_t
typedef struct cudnnAlgorithmStruct *cudnnAlgorithmDescriptor_t;
#endif

#ifndef GENQ_CUDNN_HAS_cudnnAlgorithmPerformance_t
typedef struct cudnnAlgorithmPerformanceStruct *cudnnAlgorithmPerformance_t;
#endif

#ifndef GENQ_CUDNN_HAS_cudnnAlgorithm_t
typedef struct cudnnAlgorithmUnionStruct {
	union Algorithm {
		cudnnConvolutionFwdAlgo_t convFwdAlgo;
		cudnnConvolutionBwdFilterAlgo_t convBwdFilterAlgo;
		cudnnConvolutionBwdDataAlgo_t convBwdDataAlgo;
		cudnnRNNAlgo_t RNNAlgo;
		cudnnCTCLossAlgo_t CTCLossAlgo;
	} algo;
} cudnnAlgorithm_t;
#endif

#ifndef GENQ_CUDNN_HAS_cudnnCreateAlgorithmDescriptor
cudnnStatus_t cudnnCreateAlgorithmDescriptor(cudnnAlgorithmDescriptor_t *algoDesc);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnSetAlgorithmDescriptor
cudnnStatus_t cudnnSetAlgorithmDescriptor(cudnnAlgorithmDescriptor_t algoDesc, cudnnAlgorithm_t algorithm);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnDestroyAlgorithmDescriptor
cudnnStatus_t cudnnDestroyAlgorithmDescriptor(cudnnAlgorithmDescriptor_t algoDesc);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnCreateAlgorithmPerformance
cudnnStatus_t cudnnCreateAlgorithmPerformance(cudnnAlgorithmPerformance_t *algoPerf, int numberToCreate);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnSetAlgorithmPerformance
cudnnStatus_t cudnnSetAlgorithmPerformance(cudnnAlgorithmPerformance_t algoPerf, cudnnAlgorithmDescriptor_t algoDesc,
                                           cudnnStatus_t status, float time, size_t memory);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnDestroyAlgorithmPerformance
cudnnStatus_t cudnnDestroyAlgorithmPerformance(cudnnAlgorithmPerformance_t *algoPerf, int numberToDestroy);
#endif

#ifndef GENQ_CUDNN_HAS_cudnnPersistentRNNPlan_t
typedef struct cudnnPersistentRNNPlan *cudnnPersistentRNNPlan_t;
#endif
#ifndef GENQ_CUDNN_HAS_cudnnCreatePersistentRNNPlan
cudnnStatus_t cudnnCreatePersistentRNNPlan(cudnnRNNDescriptor_t rnnDesc, const int minibatch,
                                           const cudnnDataType_t dataType, cudnnPersistentRNNPlan_t *plan);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnSetPersistentRNNPlan
cudnnStatus_t cudnnSetPersistentRNNPlan(cudnnRNNDescriptor_t rnnDesc, cudnnPersistentRNNPlan_t plan);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnDestroyPersistentRNNPlan
cudnnStatus_t cudnnDestroyPersistentRNNPlan(cudnnPersistentRNNPlan_t plan);
#endif

#ifndef GENQ_CUDNN_HAS_cudnnGetRNNLinLayerMatrixParams
cudnnStatus_t cudnnGetRNNLinLayerMatrixParams(cudnnHandle_t handle, const cudnnRNNDescriptor_t rnnDesc,
                                              const int pseudoLayer, const cudnnTensorDescriptor_t xDesc,
                                              const cudnnFilterDescriptor_t wDesc, const void *w,
                                              const int linLayerID, cudnnFilterDescriptor_t linLayerMatDesc,
                                              void **linLayerMat);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnGetRNNLinLayerBiasParams
cudnnStatus_t cudnnGetRNNLinLayerBiasParams(cudnnHandle_t handle, const cudnnRNNDescriptor_t rnnDesc,
                                            const int pseudoLayer, const cudnnTensorDescriptor_t xDesc,
                                            const cudnnFilterDescriptor_t wDesc, const void *w,
                                            const int linLayerID, cudnnFilterDescriptor_t linLayerBiasDesc,
                                            void **linLayerBias);
#endif
#ifndef GENQ_CUDNN_HAS_cudnnSetRNNMatrixMathType
cudnnStatus_t cudnnSetRNNMatrixMathType(cudnnRNNDescriptor_t rnnDesc, cudnnMathType_t mType);
#endif

#ifndef GENQ_CUDNN_HAS_cudnnIm2Col
cudnnStatus_t cudnnIm2Col(cudnnHandle_t handle, const cudnnTensorDescriptor_t xDesc, const void *x,
                          const cudnnFilterDescriptor_t wDesc, const cudnnConvolutionDescriptor_t convDesc,
                          void *colBuffer);
#endif

#endif /* GENQ_CUDNN8_REMOVED_H */
