#include "dme/quantization/detail/rounding_kernels.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <vector>

#include "dme/core/aligned_buffer.h"
#include "dme/core/detail/philox_avx512.h"
#include "dme/core/detail/philox_words.h"
#include "dme/core/detail/simd.h"

namespace dme::detail {

std::size_t level_interval(float x, const float* levels, std::size_t s) {
  if (s <= 2) return 0;
  return static_cast<std::size_t>(std::upper_bound(levels + 1, levels + s - 1, x) - (levels + 1));
}

namespace {

inline std::uint16_t stochastic_code(float x, float u, const float* lv, std::size_t s) {
  if (s == 1) return 0;
  const std::size_t c = level_interval(x, lv, s);
  const float a = lv[c], b = lv[c + 1];
  return static_cast<std::uint16_t>(c + (u < (x - a) / (b - a) ? 1 : 0));
}

inline std::uint16_t nearest_code(float x, const float* lv, std::size_t s) {
  if (s == 1) return 0;
  const std::size_t c = level_interval(x, lv, s);
  const float a = lv[c], b = lv[c + 1];
  return static_cast<std::uint16_t>(c + ((x - a) > (b - x) ? 1 : 0));
}

}  // namespace

std::size_t stochastic_round_scalar(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes) {
  const float lo = levels.front(), hi = levels.back();
  for (std::size_t i = 0; i < n; ++i) {
    if (!(x[i] >= lo && x[i] <= hi)) return i;
    codes[i] =
        stochastic_code(x[i], stream.uniform_float(first_index + i), levels.data(), levels.size());
  }
  return n;
}

std::size_t nearest_round_scalar(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes) {
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] != x[i]) return i;
    codes[i] = nearest_code(x[i], levels.data(), levels.size());
  }
  return n;
}

#if DME_HAVE_AVX512
namespace {

// Search and level tables. The search table holds levels[1 .. s-2] at their own indices and +inf
// elsewhere, over a power-of-two size, so the binary search needs no bounds checks.
// Up to 64 levels the tables live inside the object (no allocation per call: compress_chunk
// rounds 8192 values per call).
struct Tables {
  static constexpr std::size_t kInline = 64;
  std::size_t pow2 = 1;
  alignas(64) float search_inline[kInline];
  alignas(64) float level_inline[kInline];
  AlignedVector<float> search_heap, level_heap;
  float* search;
  float* level;

  explicit Tables(std::span<const float> levels) {
    const std::size_t s = levels.size();
    while (pow2 < s) pow2 *= 2;
    const std::size_t size = std::max<std::size_t>(pow2, kInline);
    if (size == kInline) {
      search = search_inline;
      level = level_inline;
    } else {
      search_heap.resize(size);
      level_heap.resize(size);
      search = search_heap.data();
      level = level_heap.data();
    }
    std::fill_n(search, size, std::numeric_limits<float>::infinity());
    for (std::size_t t = 1; t + 1 < s; ++t) search[t] = levels[t];
    std::fill_n(level, size, levels.back());
    std::copy(levels.begin(), levels.end(), level);
  }
  Tables(const Tables&) = delete;
  Tables& operator=(const Tables&) = delete;
};

// Table lookups by 16 indices: one register (s <= 16), two (s <= 32), four (s <= 64), or
// gathers.
struct Lookup16 {
  __m512 t;
  explicit Lookup16(const float* table) : t(_mm512_loadu_ps(table)) {}
  __m512 operator()(__m512i i) const { return _mm512_permutexvar_ps(i, t); }
};
struct Lookup32 {
  __m512 lo, hi;
  explicit Lookup32(const float* table)
      : lo(_mm512_loadu_ps(table)), hi(_mm512_loadu_ps(table + 16)) {}
  __m512 operator()(__m512i i) const { return _mm512_permutex2var_ps(lo, i, hi); }
};
struct Lookup64 {
  __m512 t0, t1, t2, t3;
  explicit Lookup64(const float* table)
      : t0(_mm512_loadu_ps(table)),
        t1(_mm512_loadu_ps(table + 16)),
        t2(_mm512_loadu_ps(table + 32)),
        t3(_mm512_loadu_ps(table + 48)) {}
  __m512 operator()(__m512i i) const {
    // permutex2var uses index bits 0..4; bit 5 picks the upper pair of registers.
    const __m512 low = _mm512_permutex2var_ps(t0, i, t1);
    const __m512 high = _mm512_permutex2var_ps(t2, i, t3);
    return _mm512_mask_mov_ps(low, _mm512_test_epi32_mask(i, _mm512_set1_epi32(32)), high);
  }
};
struct LookupGather {
  const float* t;
  explicit LookupGather(const float* table) : t(table) {}
  __m512 operator()(__m512i i) const { return _mm512_i32gather_ps(i, t, 4); }
};

// Streamed inputs are fetched this far ahead by software: the hardware prefetcher alone left the
// 2^24 rounding waiting on memory (measured: 22.6 -> 16.2 ms with it; 2-8 KiB ahead all alike).
constexpr std::size_t kPrefetchBytes = 4096;

inline void prefetch_ahead(const float* p) {
  _mm_prefetch(reinterpret_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
}

// Level interval of 16 values by binary search over the power-of-two search table (pow2 =
// 2^steps entries). kSteps > 0 fixes the number of steps at compile time (tables in registers:
// the loop unrolls and its constants are hoisted; the first step is a compare with one level);
// kSteps = 0 takes it from pow2 at run time (gathered tables).
template <int kSteps, class Look>
inline __m512i interval16(__m512 x, const Look& search, int pow2) {
  __m512i c = _mm512_setzero_si512();
  if constexpr (kSteps > 0) {
    for (int k = kSteps - 1; k >= 0; --k) {
      const __m512i cand = _mm512_add_epi32(c, _mm512_set1_epi32(1 << k));
      c = _mm512_mask_mov_epi32(c, _mm512_cmp_ps_mask(search(cand), x, _CMP_LE_OQ), cand);
    }
  } else {
    for (int step = pow2 / 2; step >= 1; step /= 2) {
      const __m512i cand = _mm512_add_epi32(c, _mm512_set1_epi32(step));
      c = _mm512_mask_mov_epi32(c, _mm512_cmp_ps_mask(search(cand), x, _CMP_LE_OQ), cand);
    }
  }
  return c;
}

inline void store_codes(std::uint16_t* out, __m512i code) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), _mm512_cvtepi32_epi16(code));
}

template <class Look, int kSteps>
std::size_t stochastic_avx512(const float* x, std::size_t n, std::span<const float> levels,
                              const PhiloxStream& stream, std::uint64_t first,
                              std::uint16_t* codes) {
  const Tables tables(levels);
  const Look search(tables.search), level(tables.level);
  const int pow2 = static_cast<int>(tables.pow2);
  const __m512 lo = _mm512_set1_ps(levels.front()), hi = _mm512_set1_ps(levels.back());
  const __m512i one = _mm512_set1_epi32(1);
  const Philox16 philox(philox_words(stream));
  // Scalar head up to a block boundary of the stream (4 draws per Philox block).
  std::size_t i = std::min<std::size_t>(n, (4 - first % 4) % 4);
  if (std::size_t bad = stochastic_round_scalar(x, i, levels, stream, first, codes); bad < i)
    return bad;
  for (; i + 64 <= n; i += 64) {
    for (int q = 0; q < 4; ++q) prefetch_ahead(x + i + 16 * q);  // one line per 16 values
    __m512 u[4];
    philox.uniforms64((first + i) / 4, u);
    for (int q = 0; q < 4; ++q) {
      const std::size_t at = i + 16 * static_cast<std::size_t>(q);
      const __m512 v = _mm512_loadu_ps(x + at);
      const __mmask16 inside =
          _mm512_cmp_ps_mask(v, lo, _CMP_GE_OQ) & _mm512_cmp_ps_mask(v, hi, _CMP_LE_OQ);
      if (inside != 0xFFFF) return at + static_cast<std::size_t>(__builtin_ctz(~inside & 0xFFFFu));
      const __m512i c = interval16<kSteps>(v, search, pow2);
      const __m512 a = level(c), b = level(_mm512_add_epi32(c, one));
      const __m512 p = _mm512_div_ps(_mm512_sub_ps(v, a), _mm512_sub_ps(b, a));
      store_codes(codes + at,
                  _mm512_mask_add_epi32(c, _mm512_cmp_ps_mask(u[q], p, _CMP_LT_OQ), c, one));
    }
  }
  const std::size_t bad =
      stochastic_round_scalar(x + i, n - i, levels, stream, first + i, codes + i);
  return i + bad;
}

template <class Look, int kSteps>
std::size_t nearest_avx512(const float* x, std::size_t n, std::span<const float> levels,
                           std::uint16_t* codes) {
  const Tables tables(levels);
  const Look search(tables.search), level(tables.level);
  const int pow2 = static_cast<int>(tables.pow2);
  const __m512i one = _mm512_set1_epi32(1);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    prefetch_ahead(x + i);
    const __m512 v = _mm512_loadu_ps(x + i);
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    if (nan) return i + static_cast<std::size_t>(__builtin_ctz(nan));
    const __m512i c = interval16<kSteps>(v, search, pow2);
    const __m512 a = level(c), b = level(_mm512_add_epi32(c, one));
    const __mmask16 up = _mm512_cmp_ps_mask(_mm512_sub_ps(v, a), _mm512_sub_ps(b, v), _CMP_GT_OQ);
    store_codes(codes + i, _mm512_mask_add_epi32(c, up, c, one));
  }
  return i + nearest_round_scalar(x + i, n - i, levels, codes + i);
}

// Calls kernel.template run<Look, kSteps>() for the table lookup that fits s levels: registers
// with the search depth fixed at compile time up to 64 levels, gathers beyond.
template <class Kernel>
std::size_t dispatch_levels(std::size_t s, const Kernel& kernel) {
  switch (std::bit_width(std::bit_ceil(s)) - 1) {
    case 1:
      return kernel.template run<Lookup16, 1>();
    case 2:
      return kernel.template run<Lookup16, 2>();
    case 3:
      return kernel.template run<Lookup16, 3>();
    case 4:
      return kernel.template run<Lookup16, 4>();
    case 5:
      return kernel.template run<Lookup32, 5>();
    case 6:
      return kernel.template run<Lookup64, 6>();
    default:
      return kernel.template run<LookupGather, 0>();
  }
}

struct StochasticKernel {
  const float* x;
  std::size_t n;
  std::span<const float> levels;
  const PhiloxStream& stream;
  std::uint64_t first;
  std::uint16_t* codes;
  template <class Look, int kSteps>
  std::size_t run() const {
    return stochastic_avx512<Look, kSteps>(x, n, levels, stream, first, codes);
  }
};

struct NearestKernel {
  const float* x;
  std::size_t n;
  std::span<const float> levels;
  std::uint16_t* codes;
  template <class Look, int kSteps>
  std::size_t run() const {
    return nearest_avx512<Look, kSteps>(x, n, levels, codes);
  }
};

}  // namespace

std::size_t stochastic_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes) {
  if (levels.size() < 2 || n < 64)
    return stochastic_round_scalar(x, n, levels, stream, first_index, codes);
  return dispatch_levels(levels.size(), StochasticKernel{x, n, levels, stream, first_index, codes});
}

std::size_t nearest_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes) {
  if (levels.size() < 2 || n < 16) return nearest_round_scalar(x, n, levels, codes);
  return dispatch_levels(levels.size(), NearestKernel{x, n, levels, codes});
}

bool rounding_kernels_vectorised() {
  return true;
}

#else  // no AVX-512: the scalar loops are the kernels

std::size_t stochastic_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                    const PhiloxStream& stream, std::uint64_t first_index,
                                    std::uint16_t* codes) {
  return stochastic_round_scalar(x, n, levels, stream, first_index, codes);
}

std::size_t nearest_round_kernel(const float* x, std::size_t n, std::span<const float> levels,
                                 std::uint16_t* codes) {
  return nearest_round_scalar(x, n, levels, codes);
}

bool rounding_kernels_vectorised() {
  return false;
}

#endif

}  // namespace dme::detail
