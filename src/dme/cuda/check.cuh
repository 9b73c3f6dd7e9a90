// Error checks of CUDA runtime calls: a failed call throws dme::Error naming the call, the CUDA
// error and the source location. Host code only.
#pragma once

#include <cuda_runtime.h>

namespace dme::cuda::detail {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);

}  // namespace dme::cuda::detail

#define DME_CUDA_CHECK(call)                                                           \
  do {                                                                                 \
    const cudaError_t dme_cuda_err_ = (call);                                          \
    if (dme_cuda_err_ != cudaSuccess) [[unlikely]]                                     \
      ::dme::cuda::detail::throw_cuda_error(dme_cuda_err_, #call, __FILE__, __LINE__); \
  } while (0)

/// After a kernel launch: configuration errors surface here, execution errors at the next sync.
#define DME_CUDA_CHECK_LAUNCH() DME_CUDA_CHECK(cudaGetLastError())
