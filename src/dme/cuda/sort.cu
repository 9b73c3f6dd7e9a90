// The device sort of the exact solvers, in its own translation unit: CUB's radix sort is the one
// heavy template instantiation of the backend, compiled once here.
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>

#include "dme/core/error.h"
#include "dme/cuda/check.cuh"
#include "dme/cuda/quantize.cuh"

namespace dme::cuda::detail {
namespace {

constexpr unsigned kThreads = 256;
constexpr std::size_t kAlign = 256;

std::size_t align_up(std::size_t n) {
  return (n + kAlign - 1) / kAlign * kAlign;
}

// Order-preserving keys: every bit of a negative float flipped, only the sign bit of the others.
__global__ void to_keys_kernel(const float* x, std::uint64_t n, unsigned* keys) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::uint64_t(gridDim.x) * blockDim.x) {
    const unsigned b = __float_as_uint(x[i]);
    keys[i] = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  }
}

__global__ void from_keys_kernel(const unsigned* keys, std::uint64_t n, float* x) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::uint64_t(gridDim.x) * blockDim.x) {
    const unsigned k = keys[i];
    x[i] = __uint_as_float((k & 0x80000000u) ? (k & 0x7FFFFFFFu) : ~k);
  }
}

unsigned blocks_for(std::uint64_t n) {
  return static_cast<unsigned>(
      std::clamp<std::uint64_t>((n + kThreads * 8 - 1) / (kThreads * 8), 1, 4096));
}

std::size_t cub_temp_bytes(std::size_t n) {
  std::size_t bytes = 0;
  DME_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(
      nullptr, bytes, static_cast<const unsigned*>(nullptr), static_cast<unsigned*>(nullptr),
      static_cast<std::int64_t>(n)));
  return bytes;
}

}  // namespace

std::size_t sort_temp_bytes(std::size_t n) {
  return align_up(4 * n) + align_up(cub_temp_bytes(n));
}

void sort_floats(const float* keys_in, float* keys_out, std::size_t n, void* temp,
                 std::size_t temp_bytes, cudaStream_t stream) {
  DME_ASSERT(temp_bytes >= sort_temp_bytes(n));
  if (n == 0) return;
  // keys_out holds the unsorted keys, temp the sorted ones, which are turned back into floats.
  auto* unsorted = reinterpret_cast<unsigned*>(keys_out);
  auto* sorted = static_cast<unsigned*>(temp);
  void* cub_temp = static_cast<char*>(temp) + align_up(4 * n);
  std::size_t cub_bytes = temp_bytes - align_up(4 * n);
  to_keys_kernel<<<blocks_for(n), kThreads, 0, stream>>>(keys_in, n, unsorted);
  DME_CUDA_CHECK_LAUNCH();
  DME_CUDA_CHECK(cub::DeviceRadixSort::SortKeys(cub_temp, cub_bytes, unsorted, sorted,
                                                static_cast<std::int64_t>(n), 0, 32, stream));
  from_keys_kernel<<<blocks_for(n), kThreads, 0, stream>>>(sorted, n, keys_out);
  DME_CUDA_CHECK_LAUNCH();
}

}  // namespace dme::cuda::detail
