#include "dme/cuda/hadamard.cuh"

#include <algorithm>
#include <vector>

#include "dme/core/error.h"
#include "dme/cuda/check.cuh"
#include "dme/rotation/fwht.h"

namespace dme::cuda::detail {
namespace {

constexpr int kSmallMaxBits = 12;  // up to 2^12 floats: one block, all levels in shared memory
constexpr int kSmallThreads = 256;
constexpr int kLocalBits = 13;  // contiguous tiles of 2^13 floats: 512 threads x 16 registers
constexpr int kLocalThreads = 512;
constexpr int kGlobalTileBits = 14;  // 2^14 floats per tile: 512 threads x 32 elements per stage
constexpr int kGlobalThreads = 512;
constexpr int kGlobalMinColumnBits = 4;  // rows of at least 16 contiguous floats (64 bytes)
constexpr int kGlobalMaxBits = kGlobalTileBits - kGlobalMinColumnBits;
constexpr int kStageMaxBits = 4;
constexpr int kMaxReps = kMaxChain;
constexpr unsigned kFullMask = 0xffffffffu;

/// One kernel launch: `reps` transforms of the pass's bits on each tile, with slot 0 applied at
/// load, slot r between reps r-1 and r, slot `reps` at store (HadamardChain's slots).
struct TileOps {
  const std::uint32_t* sign[kMaxReps + 1];
  float scale[kMaxReps + 1];
  int reps;
  const float* src;
  std::size_t src_len;
  float* copy_out;
  std::size_t copy_len;
  unsigned long long* first_bad;
};

struct Slot {
  const std::uint32_t* sign;
  float scale;
};

// Selected by comparisons, not by indexing the kernel parameter with a runtime value (which
// would spill the parameter block to local memory).
__device__ __forceinline__ Slot slot_of(const TileOps& ops, int j) {
  Slot out{ops.sign[0], ops.scale[0]};
#pragma unroll
  for (int t = 1; t <= kMaxReps; ++t)
    if (t == j) out = Slot{ops.sign[t], ops.scale[t]};
  return out;
}

__device__ __forceinline__ float flip(float v, std::uint32_t bit) {
  return __uint_as_float(__float_as_uint(v) ^ (bit << 31));
}

/// scale·v, negated when the sign bit of coordinate g is set. __fmul_rn is never contracted into
/// a later add, so the scaling rounds exactly as on the CPU.
__device__ __forceinline__ float apply(const Slot& s, float v, std::uint64_t g) {
  v = __fmul_rn(v, s.scale);
  if (s.sign) v = flip(v, (__ldg(s.sign + (g >> 5)) >> (g & 31)) & 1u);
  return v;
}

/// The same for the four coordinates g .. g+3 (g a multiple of 4) held in v[0..3].
__device__ __forceinline__ void apply4(const Slot& s, float* v, std::uint64_t g) {
  const std::uint32_t bits = s.sign ? (__ldg(s.sign + (g >> 5)) >> (g & 31)) & 0xFu : 0u;
#pragma unroll
  for (int q = 0; q < 4; ++q) v[q] = flip(__fmul_rn(v[q], s.scale), (bits >> q) & 1u);
}

__device__ __forceinline__ bool non_finite(float v) {
  return (__float_as_uint(v) & 0x7f800000u) == 0x7f800000u;
}

/// Element g of the chain's input: src (zero padded past src_len) when set, else y.
__device__ __forceinline__ float load_one(const float* y, const TileOps& ops, std::uint64_t g) {
  if (!ops.src) return y[g];
  const float v = g < ops.src_len ? __ldg(ops.src + g) : 0.0f;
  if (ops.first_bad && non_finite(v)) atomicMin(ops.first_bad, static_cast<unsigned long long>(g));
  return v;
}

/// Four consecutive input elements from g (a multiple of 4); y is 16-byte aligned.
__device__ __forceinline__ void load_four(const float* y, const TileOps& ops, std::uint64_t g,
                                          float* v) {
  if (!ops.src) {
    const float4 t = *reinterpret_cast<const float4*>(y + g);
    v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
    return;
  }
  const bool aligned = (reinterpret_cast<std::uintptr_t>(ops.src) & 15u) == 0;
  if (aligned && g + 4 <= ops.src_len) {
    const float4 t = __ldg(reinterpret_cast<const float4*>(ops.src + g));
    v[0] = t.x, v[1] = t.y, v[2] = t.z, v[3] = t.w;
    if (ops.first_bad)
#pragma unroll
      for (int q = 0; q < 4; ++q)
        if (non_finite(v[q])) atomicMin(ops.first_bad, static_cast<unsigned long long>(g + q));
    return;
  }
#pragma unroll
  for (int q = 0; q < 4; ++q) v[q] = load_one(y, ops, g + q);
}

/// Stores v to y[g] and, below copy_len, to copy_out[g].
__device__ __forceinline__ void store_one(float* y, const TileOps& ops, std::uint64_t g, float v) {
  y[g] = v;
  if (g < ops.copy_len) ops.copy_out[g] = v;
}

__device__ __forceinline__ void store_four(float* y, const TileOps& ops, std::uint64_t g,
                                           const float* v) {
  *reinterpret_cast<float4*>(y + g) = make_float4(v[0], v[1], v[2], v[3]);
  if (g < ops.copy_len)
#pragma unroll
    for (int q = 0; q < 4; ++q)
      if (g + q < ops.copy_len) ops.copy_out[g + q] = v[q];
}

/// Levels h = From, 2·From, ... below To of the in-register Walsh–Hadamard transform of E values
/// (E a power of two); all of them by default.
template <int E, int From = 1, int To = E>
__device__ __forceinline__ void wht_registers(float* v) {
#pragma unroll
  for (int h = From; h < To; h <<= 1)
#pragma unroll
    for (int r = 0; r < E; ++r)
      if ((r & h) == 0) {
        const float a = v[r], b = v[r + h];
        v[r] = a + b;
        v[r + h] = a - b;
      }
}

/// Five levels across the lanes of a warp: lane bit b pairs lanes l and l ^ b, the lower one
/// keeping the sum and the upper one the difference.
template <int E>
__device__ __forceinline__ void wht_lanes(float* v, int lane) {
#pragma unroll
  for (int b = 1; b < 32; b <<= 1) {
    const bool upper = lane & b;
#pragma unroll
    for (int r = 0; r < E; ++r) {
      const float o = __shfl_xor_sync(kFullMask, v[r], b);
      v[r] = upper ? o - v[r] : v[r] + o;
    }
  }
}

// ---- small kernel: n <= 2^12, one block ---------------------------------------------------------

__global__ void __launch_bounds__(kSmallThreads) small_kernel(float* y, int log2n, TileOps ops) {
  __shared__ float s[1 << kSmallMaxBits];
  const unsigned n = 1u << log2n;
  const Slot first = slot_of(ops, 0);
  for (unsigned i = threadIdx.x; i < n; i += blockDim.x)
    s[i] = apply(first, load_one(y, ops, i), i);
  __syncthreads();
#pragma unroll
  for (int rep = 0; rep < kMaxReps; ++rep) {
    if (rep >= ops.reps) break;
    if (rep > 0) {
      const Slot mid = slot_of(ops, rep);
      for (unsigned i = threadIdx.x; i < n; i += blockDim.x) s[i] = apply(mid, s[i], i);
      __syncthreads();
    }
    for (int h = 0; h < log2n; ++h) {
      const unsigned half = 1u << h;
      for (unsigned p = threadIdx.x; p < n / 2; p += blockDim.x) {
        const unsigned i = ((p >> h) << (h + 1)) | (p & (half - 1));
        const float a = s[i], b = s[i + half];
        s[i] = a + b;
        s[i + half] = a - b;
      }
      __syncthreads();
    }
  }
  const Slot last = slot_of(ops, ops.reps);
  for (unsigned i = threadIdx.x; i < n; i += blockDim.x) store_one(y, ops, i, apply(last, s[i], i));
}

// ---- local kernel: bits [0, 13) of contiguous 2^13 tiles ---------------------------------------
// Layout A (after the coalesced float4 load): register r = 4k + q of lane l in warp w holds tile
// element w·512 + k·128 + 4l + q, so tile bits {0, 1, 7, 8} are register bits, bits 2..6 lanes.
// Layout B: register m of thread t holds element m·512 + t, so tile bits 9..12 are register bits.
// Each transform runs its levels in increasing bit order, the CPU's: in layout A the register
// bits 0, 1, the lane bits 2..6 and the register bits 7, 8, then, after a shared-memory
// transpose, bits 9..12 in layout B (a further transpose back to A before a chain's next one).

struct LocalThread {
  int tid, lane, warp;
  std::uint64_t base;  // first element of the tile
  __device__ std::uint64_t index_a(int k) const { return base + warp * 512 + k * 128 + lane * 4; }
  __device__ std::uint64_t index_b(int m) const { return base + m * 512 + tid; }
};

__device__ __forceinline__ void slot_a(const Slot& s, float* v, const LocalThread& t) {
#pragma unroll
  for (int k = 0; k < 4; ++k) apply4(s, v + 4 * k, t.index_a(k));
}

__device__ __forceinline__ void slot_b(const Slot& s, float* v, const LocalThread& t) {
#pragma unroll
  for (int m = 0; m < 16; ++m) v[m] = apply(s, v[m], t.index_b(m));
}

__device__ __forceinline__ void transpose_a_to_b(float* s, float* v, const LocalThread& t) {
  __syncthreads();  // earlier reads of s are done
#pragma unroll
  for (int k = 0; k < 4; ++k)
    *reinterpret_cast<float4*>(s + t.warp * 512 + k * 128 + t.lane * 4) =
        make_float4(v[4 * k], v[4 * k + 1], v[4 * k + 2], v[4 * k + 3]);
  __syncthreads();
#pragma unroll
  for (int m = 0; m < 16; ++m) v[m] = s[m * 512 + t.tid];
}

__device__ __forceinline__ void transpose_b_to_a(float* s, float* v, const LocalThread& t) {
  __syncthreads();
#pragma unroll
  for (int m = 0; m < 16; ++m) s[m * 512 + t.tid] = v[m];
  __syncthreads();
#pragma unroll
  for (int k = 0; k < 4; ++k) {
    const float4 f = *reinterpret_cast<const float4*>(s + t.warp * 512 + k * 128 + t.lane * 4);
    v[4 * k] = f.x, v[4 * k + 1] = f.y, v[4 * k + 2] = f.z, v[4 * k + 3] = f.w;
  }
}

__global__ void __launch_bounds__(kLocalThreads, 2) local_kernel(float* y, TileOps ops) {
  __shared__ __align__(16) float s[1 << kLocalBits];
  const LocalThread t{static_cast<int>(threadIdx.x), static_cast<int>(threadIdx.x & 31),
                      static_cast<int>(threadIdx.x >> 5),
                      static_cast<std::uint64_t>(blockIdx.x) << kLocalBits};
  float v[16];
#pragma unroll
  for (int k = 0; k < 4; ++k) load_four(y, ops, t.index_a(k), v + 4 * k);
  slot_a(slot_of(ops, 0), v, t);
#pragma unroll
  for (int rep = 0; rep < kMaxReps; ++rep) {
    if (rep >= ops.reps) break;
    if (rep > 0) {
      transpose_b_to_a(s, v, t);
      slot_a(slot_of(ops, rep), v, t);
    }
    wht_registers<16, 1, 4>(v);   // tile bits 0, 1
    wht_lanes<16>(v, t.lane);     // bits 2..6
    wht_registers<16, 4, 16>(v);  // bits 7, 8
    transpose_a_to_b(s, v, t);
    wht_registers<16>(v);  // bits 9..12
  }
  slot_b(slot_of(ops, ops.reps), v, t);
#pragma unroll
  for (int m = 0; m < 16; ++m) store_one(y, ops, t.index_b(m), v[m]);
}

// ---- global kernel: `bits` index bits from `first_bit`, in tiles of 2^14 -----------------------
// A tile is 2^bits rows (stride 2^first_bit) by 2^c contiguous columns, c = 14 - bits >= 4; tile
// element u = column + row·2^c sits in shared memory at u + u/32 (the padding spreads the
// stage accesses, whose low bits are column bits, over the banks). The row bits are transformed
// in stages of up to 4 bits, each thread taking 32 elements per stage as 2..16 groups: 5-bit
// stages (32 registers of data) made ptxas spill under the 64-register cap that lets two
// 512-thread blocks share an SM.

struct GlobalTiling {
  int first_bit;  // a: stride exponent of the rows
  int bits;       // R: rows = 2^R
  int col_bits;   // c = kGlobalTileBits - R
  __device__ std::uint64_t tile_base(std::uint64_t tile) const {
    const int gap = first_bit - col_bits;  // index bits [c, a) enumerate tiles first
    return ((tile & ((std::uint64_t(1) << gap) - 1)) << col_bits) |
           ((tile >> gap) << (first_bit + bits));
  }
  __device__ std::uint64_t index(std::uint64_t base, unsigned u) const {
    return base + (u & ((1u << col_bits) - 1)) + (std::uint64_t(u >> col_bits) << first_bit);
  }
};

__device__ __forceinline__ unsigned padded(unsigned u) {
  return u + (u >> 5);
}

template <int LogE>
__device__ __forceinline__ void global_stage(float* s, int p) {
  constexpr int kE = 1 << LogE;
  constexpr int kGroups = 32 / kE;
#pragma unroll
  for (int j = 0; j < kGroups; ++j) {
    const unsigned q = threadIdx.x + kGlobalThreads * j;
    const unsigned u0 = (q & ((1u << p) - 1)) | ((q >> p) << (p + LogE));
    float v[kE];
#pragma unroll
    for (int e = 0; e < kE; ++e) v[e] = s[padded(u0 + (unsigned(e) << p))];
    wht_registers<kE>(v);
#pragma unroll
    for (int e = 0; e < kE; ++e) s[padded(u0 + (unsigned(e) << p))] = v[e];
  }
}

/// All row bits of the tile, in balanced stages of at most kStageMaxBits bits.
__device__ void global_transform(float* s, const GlobalTiling& g) {
  const int stages = (g.bits + kStageMaxBits - 1) / kStageMaxBits;
  int p = g.col_bits;
  for (int i = 0; i < stages; ++i) {
    const int e = g.bits / stages + (i < g.bits % stages ? 1 : 0);
    switch (e) {
      case 1:
        global_stage<1>(s, p);
        break;
      case 2:
        global_stage<2>(s, p);
        break;
      case 3:
        global_stage<3>(s, p);
        break;
      default:
        global_stage<4>(s, p);
        break;
    }
    p += e;
    __syncthreads();
  }
}

__global__ void __launch_bounds__(kGlobalThreads, 2)
    global_kernel(float* y, GlobalTiling g, TileOps ops) {
  extern __shared__ float s[];
  constexpr int kVectors = (1 << kGlobalTileBits) / 4 / kGlobalThreads;
  const std::uint64_t base = g.tile_base(blockIdx.x);
  const Slot first = slot_of(ops, 0);
#pragma unroll
  for (int i = 0; i < kVectors; ++i) {
    const unsigned u = 4 * (threadIdx.x + kGlobalThreads * i);
    const std::uint64_t at = g.index(base, u);
    float v[4];
    load_four(y, ops, at, v);
    apply4(first, v, at);
#pragma unroll
    for (int q = 0; q < 4; ++q) s[padded(u + q)] = v[q];
  }
  __syncthreads();
#pragma unroll
  for (int rep = 0; rep < kMaxReps; ++rep) {
    if (rep >= ops.reps) break;
    if (rep > 0) {
      const Slot mid = slot_of(ops, rep);
      for (unsigned u = threadIdx.x; u < (1u << kGlobalTileBits); u += kGlobalThreads)
        s[padded(u)] = apply(mid, s[padded(u)], g.index(base, u));
      __syncthreads();
    }
    global_transform(s, g);
  }
  const Slot last = slot_of(ops, ops.reps);
#pragma unroll
  for (int i = 0; i < kVectors; ++i) {
    const unsigned u = 4 * (threadIdx.x + kGlobalThreads * i);
    const std::uint64_t at = g.index(base, u);
    float v[4];
#pragma unroll
    for (int q = 0; q < 4; ++q) v[q] = s[padded(u + q)];
    apply4(last, v, at);
    store_four(y, ops, at, v);
  }
}

constexpr std::size_t kGlobalSharedBytes =
    sizeof(float) * ((1u << kGlobalTileBits) + ((1u << kGlobalTileBits) >> 5));

// ---- helpers
// --------------------------------------------------------------------------------------

__global__ void sign_mask_kernel(PhiloxStream stream, std::uint64_t blocks, uint4* mask) {
  for (std::uint64_t b = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; b < blocks;
       b += std::uint64_t(gridDim.x) * blockDim.x) {
    const auto r = stream.block(b);
    mask[b] = make_uint4(r.v[0], r.v[1], r.v[2], r.v[3]);
  }
}

__global__ void non_finite_kernel(const float* x, std::uint64_t n, unsigned long long* first_bad) {
  for (std::uint64_t i = blockIdx.x * std::uint64_t(blockDim.x) + threadIdx.x; i < n;
       i += std::uint64_t(gridDim.x) * blockDim.x)
    if (non_finite(x[i])) atomicMin(first_bad, static_cast<unsigned long long>(i));
}

unsigned grid_for(std::uint64_t items, unsigned threads) {
  constexpr std::uint64_t kMaxBlocks = 65536;  // grid-stride loops cover the rest
  return static_cast<unsigned>(
      std::clamp<std::uint64_t>((items + threads - 1) / threads, 1, kMaxBlocks));
}

/// Bits transformed by one pass (kernel launch).
struct Pass {
  int first_bit;
  int bits;
  bool operator==(const Pass&) const = default;
};

static_assert(dme::detail::kFwhtRowLog >= kLocalBits &&
                  dme::detail::kFwhtRowLog - kLocalBits <= kGlobalMaxBits,
              "the CPU's rows must be the local pass and at most one global pass");

/// The passes of one transform, split as the CPU splits it (rotation/fwht.h: rows are bits
/// [0, R), R = min(L, kFwhtRowLog), columns the others). Rows: the small kernel (L <= 12), else
/// the local pass [0, 13) and a global pass [13, R). Columns: global passes of balanced sizes,
/// each at most kGlobalMaxBits. Every pass, and so every transform, runs its levels in
/// increasing bit order.
struct TransformPlan {
  std::vector<Pass> rows, columns;
};

TransformPlan plan_transform(int log2n) {
  TransformPlan p;
  if (log2n <= kSmallMaxBits) {
    p.rows.push_back({0, log2n});
    return p;
  }
  const int row_bits = std::min(log2n, dme::detail::kFwhtRowLog);
  p.rows.push_back({0, kLocalBits});
  if (row_bits > kLocalBits) p.rows.push_back({kLocalBits, row_bits - kLocalBits});
  const int rest = log2n - row_bits;
  const int count = (rest + kGlobalMaxBits - 1) / kGlobalMaxBits;
  int first = row_bits;
  for (int i = 0; i < count; ++i) {
    const int bits = rest / count + (i < rest % count ? 1 : 0);
    p.columns.push_back({first, bits});
    first += bits;
  }
  return p;
}

/// The passes of a chain in time order, as the CPU's fwht_chain orders the levels: transform t
/// (from 0) rows then columns, except that in a chain of several transforms with columns the odd
/// ones go columns then rows. So the last pass of one transform and the first of the next are
/// often the same tiling, and run as one kernel with the slot between them.
std::vector<Pass> pass_sequence(int log2n, int transforms) {
  const TransformPlan plan = plan_transform(log2n);
  std::vector<Pass> order;
  for (int t = 0; t < transforms; ++t) {
    const bool columns_first = transforms >= 2 && !plan.columns.empty() && t % 2 == 1;
    const auto& a = columns_first ? plan.columns : plan.rows;
    const auto& b = columns_first ? plan.rows : plan.columns;
    order.insert(order.end(), a.begin(), a.end());
    order.insert(order.end(), b.begin(), b.end());
  }
  return order;
}

void launch_pass(float* y, int log2n, const Pass& pass, const TileOps& ops, cudaStream_t stream) {
  const std::uint64_t n = std::uint64_t(1) << log2n;
  if (log2n <= kSmallMaxBits) {
    small_kernel<<<1, kSmallThreads, 0, stream>>>(y, log2n, ops);
  } else if (pass.first_bit == 0) {
    local_kernel<<<static_cast<unsigned>(n >> kLocalBits), kLocalThreads, 0, stream>>>(y, ops);
  } else {
    DME_CUDA_CHECK(cudaFuncSetAttribute(global_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(kGlobalSharedBytes)));
    const GlobalTiling tiling{pass.first_bit, pass.bits, kGlobalTileBits - pass.bits};
    global_kernel<<<static_cast<unsigned>(n >> kGlobalTileBits), kGlobalThreads, kGlobalSharedBytes,
                    stream>>>(y, tiling, ops);
  }
  DME_CUDA_CHECK_LAUNCH();
}

}  // namespace

int hadamard_launches(int log2n, int transforms) {
  const std::vector<Pass> order = pass_sequence(log2n, transforms);
  int launches = 0;
  for (std::size_t e = 0; e < order.size(); ++e) launches += e == 0 || !(order[e] == order[e - 1]);
  return launches;
}

void run_hadamard_chain(float* y, int log2n, const HadamardChain& chain, cudaStream_t stream) {
  DME_ASSERT(log2n >= 0 && log2n <= 31);
  DME_ASSERT(chain.transforms >= 1 && chain.transforms <= kMaxChain);
  DME_ASSERT((reinterpret_cast<std::uintptr_t>(y) & 15u) == 0);
  const std::vector<Pass> order = pass_sequence(log2n, chain.transforms);
  const std::size_t np = order.size() / static_cast<std::size_t>(chain.transforms);
  std::size_t e = 0;
  while (e < order.size()) {
    std::size_t run = 1;
    while (e + run < order.size() && order[e + run] == order[e]) ++run;
    const int transform = static_cast<int>(e / np);  // the transform of rep 0
    const bool first = e == 0, last = e + run == order.size();
    TileOps ops{};
    ops.reps = static_cast<int>(run);
    for (int r = 0; r <= kMaxReps; ++r) ops.scale[r] = 1.0f;
    if (first) {
      ops.sign[0] = chain.sign[0];
      ops.scale[0] = chain.scale[0];
      ops.src = chain.src;
      ops.src_len = chain.src_len;
      ops.first_bad = chain.first_bad;
      DME_ASSERT(!chain.src || order[0].first_bit == 0);
    } else if (e % np == 0) {  // a transform begins here: the slot before it, at load
      ops.sign[0] = chain.sign[transform];
      ops.scale[0] = chain.scale[transform];
    }
    for (int r = 1; r < ops.reps; ++r) {
      ops.sign[r] = chain.sign[transform + r];
      ops.scale[r] = chain.scale[transform + r];
    }
    if (last) {
      ops.sign[ops.reps] = chain.sign[chain.transforms];
      ops.scale[ops.reps] = chain.scale[chain.transforms];
      ops.copy_out = chain.copy_out;
      ops.copy_len = chain.copy_out ? chain.copy_len : 0;
    }
    launch_pass(y, log2n, order[e], ops, stream);
    e += run;
  }
}

std::size_t sign_mask_words(std::size_t n) {
  return 4 * ((n + 127) / 128);
}

void make_sign_mask(const PhiloxStream& stream, std::size_t n, std::uint32_t* mask,
                    cudaStream_t cuda_stream) {
  const std::uint64_t blocks = sign_mask_words(n) / 4;
  constexpr unsigned kThreads = 256;
  sign_mask_kernel<<<grid_for(blocks, kThreads), kThreads, 0, cuda_stream>>>(
      stream, blocks, reinterpret_cast<uint4*>(mask));
  DME_CUDA_CHECK_LAUNCH();
}

void find_non_finite(const float* x, std::size_t n, unsigned long long* first_bad,
                     cudaStream_t stream) {
  if (n == 0) return;
  constexpr unsigned kThreads = 256;
  non_finite_kernel<<<grid_for(n, kThreads), kThreads, 0, stream>>>(x, n, first_bad);
  DME_CUDA_CHECK_LAUNCH();
}

}  // namespace dme::cuda::detail
