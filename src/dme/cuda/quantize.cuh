// Device kernels of the quantizer and the codec (quantize.cu, sort.cu), behind plain host
// launchers. Every launcher queues work on `stream` and returns without synchronising.
#pragma once

#include <cuda_runtime.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#include "dme/core/rng.h"

namespace dme::cuda::detail {

inline constexpr unsigned long long kNoIndex = ~0ull;

/// Result words of scan_range, on the device. Keys are the order-preserving unsigned images of
/// floats (see key_to_float), in which -0 < +0.
struct ScanWords {
  unsigned min_key;              ///< init 0xFFFFFFFF
  unsigned max_key;              ///< init 0
  unsigned long long first_bad;  ///< index of the first NaN/Inf, init kNoIndex
};

/// The float whose order-preserving key is `key`: keys flip every bit of negative floats and
/// the sign bit of the others, so unsigned order is float order with -0 < +0.
inline float key_to_float(unsigned key) {
  return std::bit_cast<float>((key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key);
}

/// Min and max keys and the first non-finite index of x (size n >= 1) into *out, which the
/// caller initialised as documented in ScanWords.
void scan_range(const float* x, std::size_t n, ScanWords* out, cudaStream_t stream);


/// Apx. QUIVER histogram: for every x_i (size n) its bin t, the first grid level >= x_i (exactly
/// the CPU's rule: a float estimate from lo and scale corrected against `level`), then
/// count[t] += 1 and offset_sum[t] += rint((level[t] - x_i) / unit), an exact integer sum (unit
/// a power of two, chosen so that each term is below 2^33). count and offset_sum (size m + 1)
/// must be zeroed by the caller.
struct HistogramArgs {
  const float* x;
  std::size_t n;
  float lo;
  float scale;  ///< float(m / (hi - lo)), as the CPU computes it
  unsigned m;
  const float* level;              ///< device, size m + 1
  double inv_unit;                 ///< 1 / unit, a power of two
  unsigned* count;                 ///< device, size m + 1
  unsigned long long* offset_sum;  ///< device, size m + 1
};
void grid_histogram(const HistogramArgs& args, cudaStream_t stream);

/// Code layout of the packed section (bitpack.h): fixed width `bits`, or `digits` base-s digits
/// per 64-bit word.
struct PackLayout {
  bool radix = false;
  unsigned bits = 0;
  unsigned digits = 0;
  std::uint32_t s = 0;
};

/// Rounds x (size count) to the levels of its buckets and packs the codes into out, which holds
/// at least packed_words_bytes(count, layout) bytes (the packed section, zero-padded to whole
/// 32- or 64-bit words). Stochastic: draw of x_i is stream.uniform_float(first_index + i). The
/// first index whose value is outside its bucket's range (stochastic) or NaN lowers *first_bad.
struct RoundArgs {
  const float* x;
  std::size_t count;
  std::uint64_t first_index;
  PhiloxStream stream{0, 0, 0, Purpose::kRounding};
  bool nearest = false;
  const float* levels;                 ///< device: every bucket's levels, concatenated
  const std::uint32_t* offsets;        ///< device: bucket b uses levels[offsets[b], offsets[b+1])
  std::uint32_t single_bucket_levels;  ///< > 0: one bucket of that many levels (offsets unused)
  std::uint64_t bucket_size;           ///< coordinates per bucket when several
  unsigned long long* first_bad;
};
std::size_t packed_words_bytes(std::size_t count, const PackLayout& layout);
void round_and_pack(const RoundArgs& args, const PackLayout& layout, void* out,
                    cudaStream_t stream);

/// Decoding of a packed section already on the device (in, packed_words_bytes(count) bytes, the
/// bytes past the section zero). check_codes lowers *first_bad to the first coordinate whose code
/// is not below its bucket's level count (or, for mixed radix, k·w for a word w >= s^digits);
/// accumulate adds acc[i] += level of code i.
struct DecodeArgs {
  const void* in;
  std::size_t count;
  const float* levels;
  const std::uint32_t* offsets;
  std::uint32_t single_bucket_levels;
  std::uint64_t bucket_size;
};
void check_codes(const DecodeArgs& args, const PackLayout& layout, unsigned long long* first_bad,
                 cudaStream_t stream);
void accumulate_codes(const DecodeArgs& args, const PackLayout& layout, float* acc,
                      cudaStream_t stream);

/// x[i] /= divisor and dst[i] += src[i] over n values.
void divide_values(float* x, std::size_t n, float divisor, cudaStream_t stream);
void add_values(float* dst, const float* src, std::size_t n, cudaStream_t stream);

/// keys_out <- keys_in (n floats) sorted ascending by a CUB radix sort of their order-preserving
/// unsigned keys, so -0 sorts before +0 as in the CPU's radix sort (CUB's float sort treats the
/// two zeros as equal keys and keeps input order). temp: device scratch of sort_temp_bytes(n).
std::size_t sort_temp_bytes(std::size_t n);
void sort_floats(const float* keys_in, float* keys_out, std::size_t n, void* temp,
                 std::size_t temp_bytes, cudaStream_t stream);

}  // namespace dme::cuda::detail
