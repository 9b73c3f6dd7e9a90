#include <algorithm>

#include "dme/core/error.h"
#include "dme/cuda/check.cuh"
#include "dme/cuda/quantize.cuh"

namespace dme::cuda::detail {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr unsigned kThreads = 256;
constexpr unsigned kMaxBlocks = 2048;  // grid-stride loops cover larger inputs

unsigned blocks_for(std::uint64_t items, std::uint64_t per_block) {
  return static_cast<unsigned>(
      std::clamp<std::uint64_t>((items + per_block - 1) / per_block, 1, kMaxBlocks));
}

__device__ __forceinline__ std::uint64_t global_thread() {
  return blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ std::uint64_t grid_threads() {
  return std::uint64_t(gridDim.x) * blockDim.x;
}

__device__ __forceinline__ bool non_finite(float v) {
  return (__float_as_uint(v) & 0x7f800000u) == 0x7f800000u;
}

__device__ __forceinline__ unsigned float_key(float v) {
  const unsigned b = __float_as_uint(v);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

// Warp reductions: one instruction on sm_80 and later, five shuffles before (so that a build for
// older GPUs, e.g. -DCMAKE_CUDA_ARCHITECTURES=75 for a T4, still compiles).
__device__ __forceinline__ unsigned warp_min(unsigned v) {
#if __CUDA_ARCH__ >= 800
  return __reduce_min_sync(kFullMask, v);
#else
  for (int b = 16; b > 0; b >>= 1) v = min(v, __shfl_xor_sync(kFullMask, v, b));
  return v;
#endif
}

__device__ __forceinline__ unsigned warp_max(unsigned v) {
#if __CUDA_ARCH__ >= 800
  return __reduce_max_sync(kFullMask, v);
#else
  for (int b = 16; b > 0; b >>= 1) v = max(v, __shfl_xor_sync(kFullMask, v, b));
  return v;
#endif
}

__device__ __forceinline__ unsigned warp_or(unsigned v) {
#if __CUDA_ARCH__ >= 800
  return __reduce_or_sync(kFullMask, v);
#else
  for (int b = 16; b > 0; b >>= 1) v |= __shfl_xor_sync(kFullMask, v, b);
  return v;
#endif
}

// ---- min / max scan ---------------------------------------------------------------------------

__global__ void __launch_bounds__(kThreads)
    scan_kernel(const float* x, std::uint64_t n, ScanWords* out) {
  unsigned lo = 0xFFFFFFFFu, hi = 0;
  for (std::uint64_t i = global_thread(); i < n; i += grid_threads()) {
    const float v = x[i];
    if (non_finite(v)) {
      atomicMin(&out->first_bad, static_cast<unsigned long long>(i));
      continue;
    }
    const unsigned k = float_key(v);
    lo = min(lo, k);
    hi = max(hi, k);
  }
  lo = warp_min(lo);
  hi = warp_max(hi);
  if ((threadIdx.x & 31) == 0) {
    atomicMin(&out->min_key, lo);
    atomicMax(&out->max_key, hi);
  }
}

// ---- Apx. QUIVER histogram --------------------------------------------------------------------

/// The CPU's bin of v (candidates.cpp, grid_statistics): a float estimate, then corrected
/// against the levels so that the result is the first level >= v.
__device__ __forceinline__ unsigned grid_bin(float v, float lo, float scale, unsigned m,
                                             const float* level) {
  float t = ceilf(__fmul_rn(__fsub_rn(v, lo), scale));
  t = fminf(fmaxf(t, 0.0f), static_cast<float>(m));
  unsigned b = static_cast<unsigned>(t);
  while (b < m && level[b] < v) ++b;
  while (b > 0 && level[b - 1] >= v) --b;
  return b;
}

__device__ __forceinline__ unsigned long long grid_offset(float v, float level, double inv_unit) {
  return __double2ull_rn(__dmul_rn(__dsub_rn(double(level), double(v)), inv_unit));
}

/// Block-private histogram in shared memory, flushed once per block.
__global__ void __launch_bounds__(kThreads) histogram_shared_kernel(HistogramArgs a) {
  extern __shared__ unsigned long long smem[];
  const unsigned bins = a.m + 1;
  unsigned long long* sum = smem;
  unsigned* count = reinterpret_cast<unsigned*>(sum + bins);
  float* level = reinterpret_cast<float*>(count + bins);
  for (unsigned t = threadIdx.x; t < bins; t += blockDim.x) {
    sum[t] = 0;
    count[t] = 0;
    level[t] = a.level[t];
  }
  __syncthreads();
  for (std::uint64_t i = global_thread(); i < a.n; i += grid_threads()) {
    const float v = a.x[i];
    const unsigned b = grid_bin(v, a.lo, a.scale, a.m, level);
    atomicAdd(&count[b], 1u);
    atomicAdd(&sum[b], grid_offset(v, level[b], a.inv_unit));
  }
  __syncthreads();
  for (unsigned t = threadIdx.x; t < bins; t += blockDim.x)
    if (count[t]) {
      atomicAdd(&a.count[t], count[t]);
      atomicAdd(&a.offset_sum[t], sum[t]);
    }
}

/// Grids too large for shared memory: straight to global memory.
__global__ void __launch_bounds__(kThreads) histogram_global_kernel(HistogramArgs a) {
  for (std::uint64_t i = global_thread(); i < a.n; i += grid_threads()) {
    const float v = a.x[i];
    const unsigned b = grid_bin(v, a.lo, a.scale, a.m, a.level);
    atomicAdd(&a.count[b], 1u);
    atomicAdd(&a.offset_sum[b], grid_offset(v, __ldg(a.level + b), a.inv_unit));
  }
}

constexpr std::size_t kHistogramSharedLimit = 48 * 1024;  // no opt-in needed on any GPU

// ---- rounding -----------------------------------------------------------------------------------

/// Levels of the bucket of coordinate i: the block's shared copy when there is one bucket.
struct LevelView {
  const float* levels;
  const std::uint32_t* offsets;
  std::uint32_t single;
  std::uint64_t bucket_size;

  __device__ __forceinline__ void of(std::uint64_t i, const float*& lv, unsigned& s) const {
    if (single) {
      lv = levels;
      s = single;
      return;
    }
    const std::uint64_t b = i / bucket_size;
    const std::uint32_t o = __ldg(offsets + b);
    lv = levels + o;
    s = __ldg(offsets + b + 1) - o;
  }
};

constexpr unsigned kSharedLevels = 2048;  // one bucket of up to this many levels goes to smem

/// Copies a single bucket's levels to shared memory (when they fit) and returns the view.
__device__ LevelView stage_levels(LevelView v, float* shared) {
  if (v.single && v.single <= kSharedLevels) {
    for (unsigned t = threadIdx.x; t < v.single; t += blockDim.x) shared[t] = v.levels[t];
    v.levels = shared;
  }
  __syncthreads();
  return v;
}

/// #{t in [1, s-2] : lv[t] <= x}: std::upper_bound over lv[1 .. s-2] as in level_interval.
__device__ __forceinline__ unsigned level_interval(float x, const float* lv, unsigned s) {
  unsigned first = 1, n = s > 2 ? s - 2 : 0;
  while (n > 0) {
    const unsigned half = n >> 1;
    if (lv[first + half] <= x) {
      first += half + 1;
      n -= half + 1;
    } else {
      n = half;
    }
  }
  return first - 1;
}

// rounding.h's expressions in IEEE single precision: the _rn intrinsics are never contracted
// into fused multiply-adds, and the division is correctly rounded as on the CPU.
__device__ __forceinline__ bool stochastic_code(float x, float u, const float* lv, unsigned s,
                                                unsigned& code) {
  if (!(x >= lv[0] && x <= lv[s - 1])) return false;
  if (s == 1) {
    code = 0;
    return true;
  }
  const unsigned c = level_interval(x, lv, s);
  const float a = lv[c], b = lv[c + 1];
  code = c + (u < __fdiv_rn(__fsub_rn(x, a), __fsub_rn(b, a)) ? 1u : 0u);
  return true;
}

__device__ __forceinline__ bool nearest_code(float x, const float* lv, unsigned s, unsigned& code) {
  if (x != x) return false;
  if (s == 1) {
    code = 0;
    return true;
  }
  const unsigned c = level_interval(x, lv, s);
  const float a = lv[c], b = lv[c + 1];
  code = c + (__fsub_rn(x, a) > __fsub_rn(b, x) ? 1u : 0u);
  return true;
}

/// PhiloxStream::uniform_float from a block's word.
__device__ __forceinline__ float uniform_of(std::uint32_t bits) {
  return __fmul_rn(__uint2float_rn(bits >> 8), 0x1p-24f);
}

/// Word w of a Philox block, selected without indexing (which would put the block in local memory).
__device__ __forceinline__ std::uint32_t pick(const PhiloxStream::Block& r, unsigned w) {
  return w == 0 ? r.v[0] : w == 1 ? r.v[1] : w == 2 ? r.v[2] : r.v[3];
}

/// Codes of chunk coordinates [begin, begin + n) into codes[0, n) (shared), four per thread so
/// that one Philox block serves four draws; codes past a.count are 0.
__device__ void round_chunk(const RoundArgs& a, const LevelView& view, std::uint64_t begin,
                            unsigned n, std::uint16_t* codes) {
  for (unsigned j = threadIdx.x; 4 * j < n; j += blockDim.x) {
    const std::uint64_t i0 = begin + 4 * j;
    PhiloxStream::Block r0{}, r1{};
    const std::uint64_t draw0 = a.first_index + i0;
    if (!a.nearest) {
      r0 = a.stream.block(draw0 >> 2);
      if (draw0 & 3) r1 = a.stream.block((draw0 >> 2) + 1);
    }
#pragma unroll
    for (unsigned q = 0; q < 4; ++q) {
      const std::uint64_t i = i0 + q;
      unsigned code = 0;
      if (i < a.count) {
        const float* lv;
        unsigned s;
        view.of(i, lv, s);
        const float x = a.x[i];
        const std::uint64_t draw = draw0 + q;
        const unsigned word = static_cast<unsigned>(draw & 3);
        const std::uint32_t bits = (draw >> 2) == (draw0 >> 2) ? pick(r0, word) : pick(r1, word);
        const bool ok = a.nearest ? nearest_code(x, lv, s, code)
                                  : stochastic_code(x, uniform_of(bits), lv, s, code);
        if (!ok) {
          atomicMin(a.first_bad, static_cast<unsigned long long>(i));
          code = 0;
        }
      }
      codes[4 * j + q] = static_cast<std::uint16_t>(code);
    }
  }
}

// ---- packing ------------------------------------------------------------------------------------

constexpr unsigned kFixedChunk = 4096;      // codes per block step, fixed width
constexpr unsigned kRadixChunkWords = 256;  // 64-bit words per block step, mixed radix
constexpr unsigned kMaxDigits = 64;

/// Fixed width: each warp turns 32 codes into `bits` little-endian 32-bit words (the LSB-first
/// bit stream of bitpack.h), OR-reducing every code's share of each word across the warp.
__device__ void pack_fixed_chunk(const std::uint16_t* codes, unsigned bits,
                                 std::uint64_t first_group, std::uint64_t groups,
                                 std::uint32_t* out) {
  const unsigned lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (unsigned g = warp; g < kFixedChunk / 32; g += blockDim.x / 32) {
    if (first_group + g >= groups) break;  // warp-uniform
    const unsigned c = codes[32 * g + lane];
    const unsigned pos = lane * bits, word = pos >> 5, shift = pos & 31;
    const unsigned low = c << shift;
    const unsigned high = shift + bits > 32 ? c >> (32 - shift) : 0u;
    unsigned mine = 0;
    for (unsigned w = 0; w < bits; ++w) {
      const unsigned share = (word == w ? low : 0u) | (word + 1 == w ? high : 0u);
      const unsigned v = warp_or(share);
      if (lane == w) mine = v;
    }
    if (lane < bits) out[(first_group + g) * bits + lane] = mine;
  }
}

/// Mixed radix: word w = Σ_j code[w·k + j]·s^j, one word per thread.
__device__ void pack_radix_chunk(const std::uint16_t* codes, unsigned k, std::uint32_t s,
                                 std::uint64_t first_word, std::uint64_t words,
                                 unsigned long long* out) {
  for (unsigned w = threadIdx.x; w < kRadixChunkWords; w += blockDim.x) {
    if (first_word + w >= words) break;
    unsigned long long v = 0;
    for (unsigned j = k; j-- > 0;) v = v * s + codes[w * k + j];
    out[first_word + w] = v;
  }
}

__global__ void __launch_bounds__(kThreads)
    round_pack_kernel(RoundArgs a, PackLayout layout, void* out) {
  __shared__ float shared_levels[kSharedLevels];
  __shared__ std::uint16_t codes[kRadixChunkWords * kMaxDigits];
  const LevelView view =
      stage_levels({a.levels, a.offsets, a.single_bucket_levels, a.bucket_size}, shared_levels);
  const unsigned chunk = layout.radix ? kRadixChunkWords * layout.digits : kFixedChunk;
  const std::uint64_t chunks = (a.count + chunk - 1) / chunk;
  for (std::uint64_t c = blockIdx.x; c < chunks; c += gridDim.x) {
    round_chunk(a, view, c * chunk, chunk, codes);
    __syncthreads();
    if (layout.radix) {
      const std::uint64_t words = (a.count + layout.digits - 1) / layout.digits;
      pack_radix_chunk(codes, layout.digits, layout.s, c * kRadixChunkWords, words,
                       static_cast<unsigned long long*>(out));
    } else {
      const std::uint64_t groups = (a.count + 31) / 32;
      pack_fixed_chunk(codes, layout.bits, c * (kFixedChunk / 32), groups,
                       static_cast<std::uint32_t*>(out));
    }
    __syncthreads();  // the codes buffer is reused by the next chunk
  }
}

// ---- decoding -----------------------------------------------------------------------------------

/// Code i of a fixed-width stream (the word after the last one is readable and zero).
__device__ __forceinline__ unsigned fixed_code(const std::uint32_t* in, unsigned bits,
                                               std::uint64_t i) {
  const std::uint64_t pos = i * bits;
  const std::uint64_t word = pos >> 5;
  const unsigned shift = pos & 31;
  unsigned v = __ldg(in + word) >> shift;
  if (shift + bits > 32) v |= __ldg(in + word + 1) << (32 - shift);
  return v & ((bits == 32 ? 0u : (1u << bits)) - 1u);
}

/// s^r (r <= digits of a valid layout, so no overflow).
__device__ __forceinline__ unsigned long long power(std::uint32_t s, unsigned r) {
  unsigned long long p = 1;
  for (unsigned j = 0; j < r; ++j) p *= s;
  return p;
}

template <bool kAccumulate>
__global__ void __launch_bounds__(kThreads)
    decode_kernel(DecodeArgs a, PackLayout layout, unsigned long long* first_bad, float* acc) {
  __shared__ float shared_levels[kSharedLevels];
  const LevelView view =
      stage_levels({a.levels, a.offsets, a.single_bucket_levels, a.bucket_size}, shared_levels);
  if (!layout.radix) {
    const auto* in = static_cast<const std::uint32_t*>(a.in);
    for (std::uint64_t i = global_thread(); i < a.count; i += grid_threads()) {
      const unsigned code = fixed_code(in, layout.bits, i);
      const float* lv;
      unsigned s;
      view.of(i, lv, s);
      if constexpr (kAccumulate)
        acc[i] += lv[code];
      else if (code >= s)
        atomicMin(first_bad, static_cast<unsigned long long>(i));
    }
    return;
  }
  const auto* in = static_cast<const unsigned long long*>(a.in);
  const unsigned k = layout.digits;
  const std::uint64_t words = (a.count + k - 1) / k;
  for (std::uint64_t w = global_thread(); w < words; w += grid_threads()) {
    unsigned long long v = __ldg(in + w);
    const std::uint64_t base = w * k;
    const unsigned r = static_cast<unsigned>(min(std::uint64_t(k), a.count - base));
    if (!kAccumulate && v >= power(layout.s, r)) {
      atomicMin(first_bad, static_cast<unsigned long long>(base));
      continue;
    }
    for (unsigned j = 0; j < r; ++j) {
      const unsigned long long q = v / layout.s;
      const unsigned code = static_cast<unsigned>(v - q * layout.s);
      v = q;
      const float* lv;
      unsigned s;
      view.of(base + j, lv, s);
      if constexpr (kAccumulate)
        acc[base + j] += lv[code];
      else if (code >= s)
        atomicMin(first_bad, static_cast<unsigned long long>(base + j));
    }
  }
}

// ---- element-wise -------------------------------------------------------------------------------

__global__ void __launch_bounds__(kThreads)
    divide_kernel(float* x, std::uint64_t n, float divisor) {
  for (std::uint64_t i = global_thread(); i < n; i += grid_threads())
    x[i] = __fdiv_rn(x[i], divisor);
}

__global__ void __launch_bounds__(kThreads)
    add_kernel(float* dst, const float* src, std::uint64_t n) {
  for (std::uint64_t i = global_thread(); i < n; i += grid_threads())
    dst[i] = __fadd_rn(dst[i], src[i]);
}

}  // namespace

void divide_values(float* x, std::size_t n, float divisor, cudaStream_t stream) {
  if (n == 0) return;
  divide_kernel<<<blocks_for(n, kThreads * 8), kThreads, 0, stream>>>(x, n, divisor);
  DME_CUDA_CHECK_LAUNCH();
}

void add_values(float* dst, const float* src, std::size_t n, cudaStream_t stream) {
  if (n == 0) return;
  add_kernel<<<blocks_for(n, kThreads * 8), kThreads, 0, stream>>>(dst, src, n);
  DME_CUDA_CHECK_LAUNCH();
}

void scan_range(const float* x, std::size_t n, ScanWords* out, cudaStream_t stream) {
  scan_kernel<<<blocks_for(n, kThreads * 8), kThreads, 0, stream>>>(x, n, out);
  DME_CUDA_CHECK_LAUNCH();
}


void grid_histogram(const HistogramArgs& args, cudaStream_t stream) {
  const std::size_t shared =
      (sizeof(unsigned long long) + sizeof(unsigned) + sizeof(float)) * (std::size_t(args.m) + 1);
  const unsigned blocks = blocks_for(args.n, kThreads * 16);
  if (shared <= kHistogramSharedLimit) {
    histogram_shared_kernel<<<blocks, kThreads, shared, stream>>>(args);
  } else {
    histogram_global_kernel<<<blocks, kThreads, 0, stream>>>(args);
  }
  DME_CUDA_CHECK_LAUNCH();
}

std::size_t packed_words_bytes(std::size_t count, const PackLayout& layout) {
  if (layout.radix) return 8 * ((count + layout.digits - 1) / layout.digits);
  return 4 * std::size_t(layout.bits) * ((count + 31) / 32);
}

void round_and_pack(const RoundArgs& args, const PackLayout& layout, void* out,
                    cudaStream_t stream) {
  DME_ASSERT(layout.radix ? layout.digits >= 1 && layout.digits <= kMaxDigits
                          : layout.bits >= 1 && layout.bits <= 16);
  if (args.count == 0) return;
  const unsigned chunk = layout.radix ? kRadixChunkWords * layout.digits : kFixedChunk;
  round_pack_kernel<<<blocks_for(args.count, chunk), kThreads, 0, stream>>>(args, layout, out);
  DME_CUDA_CHECK_LAUNCH();
}

void check_codes(const DecodeArgs& args, const PackLayout& layout, unsigned long long* first_bad,
                 cudaStream_t stream) {
  if (args.count == 0) return;
  decode_kernel<false><<<blocks_for(args.count, kThreads * 8), kThreads, 0, stream>>>(
      args, layout, first_bad, nullptr);
  DME_CUDA_CHECK_LAUNCH();
}

void accumulate_codes(const DecodeArgs& args, const PackLayout& layout, float* acc,
                      cudaStream_t stream) {
  if (args.count == 0) return;
  decode_kernel<true>
      <<<blocks_for(args.count, kThreads * 8), kThreads, 0, stream>>>(args, layout, nullptr, acc);
  DME_CUDA_CHECK_LAUNCH();
}

}  // namespace dme::cuda::detail
