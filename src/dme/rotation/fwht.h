// In-place fast Walsh–Hadamard transform (Sylvester ordering) on the CPU.
//   fwht(x)                       x <- H x            (unnormalised, H entries ±1)
//   fwht(x, Normalize::kOrthonormal)  x <- H x / sqrt(n)  (an orthogonal, self-inverse map)
// n = x.size() must be a power of two (1 ≤ n ≤ kMaxFwhtLength).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dme/core/extrema.h"

namespace dme {

enum class Normalize { kNone, kOrthonormal };

/// Largest supported transform length (2^32 elements).
inline constexpr std::size_t kMaxFwhtLength = std::size_t(1) << 32;

/// @param x  data, size n = 2^L; transformed in place
void fwht(std::span<float> x, Normalize norm = Normalize::kNone);
void fwht(std::span<double> x, Normalize norm = Normalize::kNone);

namespace detail {

#ifndef DME_FWHT_ROW_LOG
#define DME_FWHT_ROW_LOG 16
#endif
/// log2 of the transform's row length: the levels of bits [0, kFwhtRowLog) are the rows, the
/// others the columns. It fixes fwht_chain's level order, which the CUDA backend follows level
/// for level to give the same bits (cuda/hadamard.cuh).
inline constexpr int kFwhtRowLog = DME_FWHT_ROW_LOG;

#ifndef DME_FWHT_PANEL_BYTES
#define DME_FWHT_PANEL_BYTES 2048
#endif
/// Bytes of each row in one column panel of the transform's second sweep (tuning only: the
/// levels and their order do not depend on it).
inline constexpr std::size_t kFwhtPanelBytes = DME_FWHT_PANEL_BYTES;

/// The fused kernel behind fwht and the RHT:
///   x <- post_signs ⊙ (scale · H (pre_signs ⊙ input))
/// where input is x itself, or, when src is given, src[0 .. src_len) followed by zeros up to n
/// (the copy and the zero padding are fused into the first sweep). Signs are bit masks (bit i of
/// word i/64 set means -1), n/64 words rounded up, or nullptr for all +1. n must be a power of
/// two. Returns true when the input held a NaN or Inf (the output is then meaningless).
/// Cache-blocked: rows are transformed in L1/L2, then column panels across rows, each in one
/// sweep of memory. extrema, when given, receives the minimum and maximum of the output, found
/// in the sweep that writes it (no extra pass over memory).
template <class T>
bool fwht_fused(T* x, std::size_t n, const std::uint64_t* pre_signs,
                const std::uint64_t* post_signs, T scale, const T* src = nullptr,
                std::size_t src_len = 0, Extrema<T>* extrema = nullptr);

/// k transforms with sign flips around and between them, in time order:
///   x <- trail ⊙ (scale·H (mid[k-2] ⊙ … scale·H (mid[0] ⊙ (scale·H (lead ⊙ input)))))
/// (an RHT chain R_k ∘ … ∘ R_1 is lead = D_1, mid = D_2 .. D_k; its inverse lead = none,
/// mid = D_k .. D_2, trail = D_1). Signs, src and the return value as in fwht_fused; null sign
/// pointers mean all +1 (mid needs k - 1 entries). Where n spans several rows, the second half
/// of one transform and the first half of the next share a sweep of memory (H = R·C = C·R with
/// R the row and C the column transforms), so k transforms take k + 1 sweeps instead of 2k.
/// The even-numbered transforms then do their column levels first, so there (k ≥ 2, n > 2^16)
/// the rounding differs from fwht_reference's level order; it is the same on every SIMD target.
template <class T>
bool fwht_chain(T* x, std::size_t n, int k, const std::uint64_t* lead,
                const std::uint64_t* const* mid, const std::uint64_t* trail, T scale,
                const T* src = nullptr, std::size_t src_len = 0, Extrema<T>* extrema = nullptr);

/// Textbook O(n log n) scalar transform, for tests and as the reference in benchmarks.
template <class T>
void fwht_reference(T* x, std::size_t n);

}  // namespace detail
}  // namespace dme
