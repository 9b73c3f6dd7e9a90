// CudaRotation and fwht: sign masks and the chains of transforms hadamard.cu runs.
#include <bit>
#include <cmath>
#include <limits>

#include "dme/core/error.h"
#include "dme/cuda/check.cuh"
#include "dme/cuda/cuda_backend.h"
#include "dme/cuda/hadamard.cuh"
#include "dme/rotation/rht.h"

namespace dme::cuda {
namespace {

constexpr unsigned long long kNoIndex = std::numeric_limits<unsigned long long>::max();

int log2_exact(std::size_t n) {
  return std::countr_zero(n);
}

void check_aligned(const float* p, const char* what) {
  DME_CHECK((reinterpret_cast<std::uintptr_t>(p) & 15u) == 0,
            what << ": device vector must be 16-byte aligned (cudaMalloc or DeviceBuffer "
                    "memory is), got address "
                 << static_cast<const void*>(p));
}

void check_vector(std::span<const float> v, std::size_t want, const char* what) {
  DME_CHECK(v.size() == want, what << " has length " << v.size() << ", expected " << want);
  detail::check_device_memory(v.data(), v.size_bytes(), what);
}

}  // namespace

void fwht(std::span<float> x, Normalize norm) {
  const std::size_t n = x.size();
  DME_CHECK(
      n >= 1 && std::has_single_bit(n) && n <= kMaxRotationLength,
      "cuda::fwht: length must be a power of two in 1.." << kMaxRotationLength << ", got " << n);
  detail::check_device_memory(x.data(), x.size_bytes(), "cuda::fwht input");
  check_aligned(x.data(), "cuda::fwht input");
  detail::HadamardChain chain;
  chain.transforms = 1;
  if (norm == Normalize::kOrthonormal)
    chain.scale[1] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  detail::run_hadamard_chain(x.data(), log2_exact(n), chain, nullptr);
}

int fwht_passes(std::size_t n) {
  DME_CHECK(n >= 1 && std::has_single_bit(n), "fwht_passes: n must be a power of two, got " << n);
  return detail::hadamard_launches(log2_exact(n), 1);
}

CudaRotation::CudaRotation(std::uint64_t seed, std::uint32_t round, int k, std::size_t d,
                           std::uint32_t stream)
    : d_(d), k_(k) {
  DME_CHECK(k >= 0 && k <= kMaxRotations,
            "rotation count must be in 0.." << kMaxRotations << ", got " << k);
  padded_ = padded_length(d);  // checks d as dme::Rotation does
  if (k == 0) padded_ = d;
  DME_CHECK(stream < (1u << 29), "rotation stream id too large: " << stream);
  first_bad_ = DeviceBuffer<unsigned long long>(1);
  if (k == 0) return;
  mask_words_ = detail::sign_mask_words(padded_);
  masks_ = DeviceBuffer<std::uint32_t>(static_cast<std::size_t>(k) * mask_words_);
  rekey(seed, round, stream);
}

void CudaRotation::rekey(std::uint64_t seed, std::uint32_t round, std::uint32_t stream) {
  DME_CHECK(stream < (1u << 29), "rotation stream id too large: " << stream);
  for (int j = 0; j < k_; ++j)
    detail::make_sign_mask(
        PhiloxStream(seed, round, sign_stream_key(stream, j), Purpose::kRotationSigns), padded_,
        masks_.data() + j * mask_words_, nullptr);
}

int CudaRotation::passes() const noexcept {
  return k_ == 0 ? 0 : detail::hadamard_launches(log2_exact(padded_), k_);
}

// Forward: slot 0 = ε_1, slot j = scale and ε_{j+1}, slot k = scale (the CPU's
// scale·H(ε ⊙ x) per RHT). Inverse: slot j = scale and ε_{k+1-j} (ε ⊙ (scale·H y) per RHT).
void CudaRotation::run(std::span<float> y, bool inverse, const float* src, float* copy_out) const {
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(padded_)));
  detail::HadamardChain chain;
  chain.transforms = k_;
  for (int j = 0; j <= k_; ++j) {
    chain.scale[j] = j == 0 ? 1.0f : scale;
    const int mask = inverse ? k_ - j : j;
    const bool has_mask = inverse ? j >= 1 : j < k_;
    chain.sign[j] = has_mask ? masks_.data() + mask * mask_words_ : nullptr;
  }
  chain.src = src;
  chain.src_len = src ? d_ : 0;
  chain.first_bad = src ? first_bad_.data() : nullptr;
  chain.copy_out = copy_out;
  chain.copy_len = copy_out ? d_ : 0;
  detail::run_hadamard_chain(y.data(), log2_exact(padded_), chain, nullptr);
}

void CudaRotation::forward(std::span<const float> x, std::span<float> y) const {
  check_vector(x, d_, "rotation input");
  check_vector(y, padded_, "rotation output");
  DME_CUDA_CHECK(cudaMemsetAsync(first_bad_.data(), 0xFF, sizeof(unsigned long long)));
  if (k_ == 0) {
    DME_CUDA_CHECK(cudaMemcpyAsync(y.data(), x.data(), x.size_bytes(), cudaMemcpyDeviceToDevice));
    detail::find_non_finite(x.data(), d_, first_bad_.data(), nullptr);
  } else {
    check_aligned(y.data(), "rotation output");
    run(y, false, x.data(), nullptr);
  }
  unsigned long long bad = kNoIndex;
  detail::copy_to_host(&bad, first_bad_.data(), sizeof bad);
  if (bad == kNoIndex) return;
  float value = 0;
  detail::copy_to_host(&value, x.data() + bad, sizeof value);
  DME_THROW("rotation input: non-finite value " << value << " at index " << bad << " of " << d_);
}

void CudaRotation::forward_inplace(std::span<float> y) const {
  check_vector(y, padded_, "rotated vector");
  if (k_ == 0) return;
  check_aligned(y.data(), "rotated vector");
  run(y, false, nullptr, nullptr);
}

void CudaRotation::inverse(std::span<float> y, std::span<float> x) const {
  check_vector(y, padded_, "rotated vector");
  check_vector(x, d_, "inverse rotation output");
  if (k_ == 0) {
    DME_CUDA_CHECK(cudaMemcpyAsync(x.data(), y.data(), x.size_bytes(), cudaMemcpyDeviceToDevice));
    return;
  }
  check_aligned(y.data(), "rotated vector");
  run(y, true, nullptr, x.data());
}

void CudaRotation::inverse_inplace(std::span<float> y) const {
  check_vector(y, padded_, "rotated vector");
  if (k_ == 0) return;
  check_aligned(y.data(), "rotated vector");
  run(y, true, nullptr, nullptr);
}

}  // namespace dme::cuda
