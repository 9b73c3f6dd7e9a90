#include "dme/codec/detail/level_lookup.h"

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

// GCC 12's AVX-512 intrinsics trip -Wmaybe-uninitialized on their own _mm512_undefined_*
// operands (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace dme::detail::codec {
namespace {

template <class T>
void add_levels_scalar(T* __restrict acc, const float* __restrict levels,
                       const std::uint16_t* __restrict codes, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) acc[i] += static_cast<T>(levels[codes[i]]);
}

#if defined(__AVX512F__)

inline void add16(float* acc, __m512 v) {
  _mm512_storeu_ps(acc, _mm512_add_ps(_mm512_loadu_ps(acc), v));
}

inline void add16(double* acc, __m512 v) {
  const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
  _mm512_storeu_pd(acc,
                   _mm512_add_pd(_mm512_loadu_pd(acc), _mm512_cvtps_pd(_mm512_castps512_ps256(v))));
  _mm512_storeu_pd(acc + 8, _mm512_add_pd(_mm512_loadu_pd(acc + 8), _mm512_cvtps_pd(hi)));
}

inline __m512i load_codes16(const std::uint16_t* codes) {
  return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)));
}

/// 16 codes at a time; `lookup` maps 16 indices to their levels. Returns the codes done.
template <class T, class Lookup>
std::size_t add_levels_avx512(T* acc, const std::uint16_t* codes, std::size_t n, Lookup lookup) {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) add16(acc + i, lookup(load_codes16(codes + i)));
  return i;
}

template <class T>
void add_levels_impl(T* acc, const float* levels, std::uint32_t count, const std::uint16_t* codes,
                     std::size_t n) {
  std::size_t done;
  if (count <= 16) {
    // Masked loads never touch the levels past count.
    const __m512 table = _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << count) - 1), levels);
    done = add_levels_avx512(acc, codes, n,
                             [&](__m512i idx) { return _mm512_permutexvar_ps(idx, table); });
  } else if (count <= 32) {
    const __m512 lo = _mm512_loadu_ps(levels);
    const __m512 hi =
        _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << (count - 16)) - 1), levels + 16);
    done = add_levels_avx512(acc, codes, n,
                             [&](__m512i idx) { return _mm512_permutex2var_ps(lo, idx, hi); });
  } else {
    done = add_levels_avx512(acc, codes, n,
                             [&](__m512i idx) { return _mm512_i32gather_ps(idx, levels, 4); });
  }
  add_levels_scalar(acc + done, levels, codes + done, n - done);
}

#elif defined(__AVX2__)

inline void add8(float* acc, __m256 v) {
  _mm256_storeu_ps(acc, _mm256_add_ps(_mm256_loadu_ps(acc), v));
}

inline void add8(double* acc, __m256 v) {
  _mm256_storeu_pd(acc,
                   _mm256_add_pd(_mm256_loadu_pd(acc), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
  _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4),
                                          _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
}

template <class T>
void add_levels_impl(T* acc, const float* levels, std::uint32_t count, const std::uint16_t* codes,
                     std::size_t n) {
  std::size_t i = 0;
  auto idx_at = [&](std::size_t j) {
    return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + j)));
  };
  if (count <= 8) {
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), lanes);
    const __m256 table = _mm256_maskload_ps(levels, mask);
    for (; i + 8 <= n; i += 8) add8(acc + i, _mm256_permutevar8x32_ps(table, idx_at(i)));
  } else {
    for (; i + 8 <= n; i += 8) add8(acc + i, _mm256_i32gather_ps(levels, idx_at(i), 4));
  }
  add_levels_scalar(acc + i, levels, codes + i, n - i);
}

#else

template <class T>
void add_levels_impl(T* acc, const float* levels, std::uint32_t, const std::uint16_t* codes,
                     std::size_t n) {
  add_levels_scalar(acc, levels, codes, n);
}

#endif

}  // namespace

void add_levels(float* acc, const float* levels, std::uint32_t count, const std::uint16_t* codes,
                std::size_t n) {
  add_levels_impl(acc, levels, count, codes, n);
}

void add_levels(double* acc, const float* levels, std::uint32_t count, const std::uint16_t* codes,
                std::size_t n) {
  add_levels_impl(acc, levels, count, codes, n);
}

}  // namespace dme::detail::codec
