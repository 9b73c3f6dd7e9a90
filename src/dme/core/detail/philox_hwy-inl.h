// Philox4x32-10 on SIMD lanes with Google Highway, bit-identical to PhiloxStream::block(): one
// source for every target (scalar emulation, SSE4, AVX2, AVX-512, NEON, SVE).
//
// Each 64-bit lane runs one block; word w of the block is the low 32 bits of lane state c[w] (the
// high halves hold don't-care bits). A 32x32 -> 64-bit multiply of the low halves (MulEven) then
// gives a round's lo and hi at once: lo is the product (its high half ignored), hi one shift away;
// a round is 2 multiplies, 2 shifts and 2 three-way xors on 2 x (lanes/2) blocks. Words 2 and 3 of
// every counter are the same (round, rank), so rounds 0 and 1 fold their constants
// (first_rounds): 3 multiplies instead of 4.
//
// Which block each lane runs is chosen so that interleaving the words of two vectors of blocks
// (InterleaveLower/Upper, which work within 128-bit blocks) yields the draws in stream order with
// no cross-block permutes: lane 2j of vector g runs block (2g)·B + j, lane 2j + 1 block
// (2g + 1)·B + j, where B = lanes64 / 2 is the number of 128-bit blocks per vector.
//
// Per-target header: include it after <hwy/highway.h> inside a foreach_target translation unit.
#if defined(DME_CORE_DETAIL_PHILOX_HWY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DME_CORE_DETAIL_PHILOX_HWY_INL_H_
#undef DME_CORE_DETAIL_PHILOX_HWY_INL_H_
#else
#define DME_CORE_DETAIL_PHILOX_HWY_INL_H_
#endif

#include <hwy/highway.h>

#include <cstdint>

#include "dme/core/detail/philox_words.h"

// HWY_SCALAR (one lane; Highway's fallback where its 128-bit emulation is not trusted, such as
// GCC < 12.3) has no interleaves: kernels compiled for it run their scalar reference loops.
#if HWY_TARGET != HWY_SCALAR
HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

class PhiloxLanes {
 public:
  using D64 = hn::ScalableTag<std::uint64_t>;
  using D32 = hn::Repartition<std::uint32_t, D64>;
  using DF = hn::Repartition<float, D64>;
  using DI = hn::Repartition<std::int32_t, D64>;
  using V64 = hn::Vec<D64>;
  using V32 = hn::Vec<D32>;
  using VF = hn::Vec<DF>;

  static constexpr int kRounds = 10;
  /// Whether words64x2 / uniforms2 pay in a kernel that does more than draw: on targets with 32
  /// vector registers (AVX-512, NEON, SVE). With 16 (AVX2, SSE4) the four chains' state spills
  /// beside a kernel's own. Stochastic rounding of 2^18 values in L2, s = 16, fastest of 400 runs
  /// (Intel Xeon family 6 model 207): AVX-512 191 -> 172.6 us with pairs; AVX2 340 -> 350-379,
  /// SSE4 665 either way. (Drawing alone, philox_uniforms, gains on AVX2 too: 12.0 -> 10.7 ms
  /// per 2^24 draws.)
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3
  static constexpr bool kPairCalls = false;
#else
  static constexpr bool kPairCalls = true;
#endif
  static constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  static constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;

  explicit PhiloxLanes(const PhiloxWords& w) : w_(w) {
    // Words 2 and 3 of every counter are the same (round, rank): round 0's second product and
    // the constants it xors in are the same for every block, and so is round 1's word 1.
    const std::uint64_t p2 = std::uint64_t{w.round} * kMul1;
    const auto hi2 = static_cast<std::uint32_t>(p2 >> 32), lo2 = static_cast<std::uint32_t>(p2);
    x0_ = w.tag ^ hi2 ^ w.key0;     // with (b >> 32) & 0xFFFFFF, round 0's word 0
    x2_ = w.rank ^ w.key1;          // with hi(b · kMul0), round 0's word 2
    x1_ = lo2 ^ (w.key0 + kWeyl0);  // with hi of round 1's second product, round 1's word 0
    k1_1_ = w.key1 + kWeyl1;
  }

  /// Blocks per call: 2 · lanes64 (16 on AVX-512, 8 on AVX2, 4 on 128-bit targets).
  static std::size_t blocks_per_call() { return 2 * hn::Lanes(D64()); }

  /// The words of blocks b0 .. b0 + blocks_per_call() - 1 in stream order as 64-bit words
  /// (word 0 | word 1 << 32, word 2 | word 3 << 32 per block), four vectors: out[q] holds
  /// blocks b0 + q·B .. b0 + (q + 1)·B - 1.
  /// kFold: rounds 0 and 1 by first_rounds (fewer operations, more constants: slower only in
  /// stochastic rounding with gathered tables on AVX-512, see rounding_kernels.cpp).
  template <bool kFold = true>
  HWY_INLINE void words64(std::uint64_t b0, V64& o0, V64& o1, V64& o2, V64& o3) const {
    const D64 d64;
    V64 a0, a1, a2, a3, b0v, b1, b2, b3;
    constexpr int kFirst = kFold ? 2 : 0;  // the first round of the loop
    if constexpr (kFold) {
      first_rounds(b0, 0, a0, a1, a2, a3);
      first_rounds(b0, 1, b0v, b1, b2, b3);
    } else {
      start(b0, 0, a0, a1, a2, a3);
      start(b0, 1, b0v, b1, b2, b3);
    }
    std::uint32_t k0 = w_.key0 + kFirst * kWeyl0, k1 = w_.key1 + kFirst * kWeyl1;
    for (int r = kFirst; r < kRounds; ++r) {
      const V64 key0 = hn::Set(d64, k0), key1 = hn::Set(d64, k1);
      round(a0, a1, a2, a3, key0, key1);
      round(b0v, b1, b2, b3, key0, key1);
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    interleave(a0, a1, a2, a3, b0v, b1, b2, b3, o0, o1, o2, o3);
  }

  /// words64 of two calls at once, b0 and b0 + blocks_per_call(): four independent chains of
  /// rounds instead of two, so the multiplies' latency hides behind the other chains' work.
  HWY_INLINE void words64x2(std::uint64_t b0, V64& o0, V64& o1, V64& o2, V64& o3, V64& o4, V64& o5,
                            V64& o6, V64& o7) const {
    const D64 d64;
    V64 a0, a1, a2, a3, b0v, b1, b2, b3, c0, c1, c2, c3, e0, e1, e2, e3;
    first_rounds(b0, 0, a0, a1, a2, a3);
    first_rounds(b0, 1, b0v, b1, b2, b3);
    first_rounds(b0 + blocks_per_call(), 0, c0, c1, c2, c3);
    first_rounds(b0 + blocks_per_call(), 1, e0, e1, e2, e3);
    std::uint32_t k0 = w_.key0 + 2 * kWeyl0, k1 = w_.key1 + 2 * kWeyl1;
    for (int r = 2; r < kRounds; ++r) {
      const V64 key0 = hn::Set(d64, k0), key1 = hn::Set(d64, k1);
      round(a0, a1, a2, a3, key0, key1);
      round(b0v, b1, b2, b3, key0, key1);
      round(c0, c1, c2, c3, key0, key1);
      round(e0, e1, e2, e3, key0, key1);
      k0 += kWeyl0;
      k1 += kWeyl1;
    }
    interleave(a0, a1, a2, a3, b0v, b1, b2, b3, o0, o1, o2, o3);
    interleave(c0, c1, c2, c3, e0, e1, e2, e3, o4, o5, o6, o7);
  }

  HWY_INLINE void uniforms2(std::uint64_t b0, VF& u0, VF& u1, VF& u2, VF& u3, VF& u4, VF& u5,
                            VF& u6, VF& u7) const {
    V64 o0, o1, o2, o3, o4, o5, o6, o7;
    words64x2(b0, o0, o1, o2, o3, o4, o5, o6, o7);
    u0 = to_float(o0);
    u1 = to_float(o1);
    u2 = to_float(o2);
    u3 = to_float(o3);
    u4 = to_float(o4);
    u5 = to_float(o5);
    u6 = to_float(o6);
    u7 = to_float(o7);
  }

  /// The 4 · blocks_per_call() draws of blocks b0 ... as uniform floats in [0, 1) in stream
  /// order (PhiloxStream::uniform_float): u0 holds draws 0 .. lanes32 - 1, u1 the next, ...
  template <bool kFold = true>
  HWY_INLINE void uniforms(std::uint64_t b0, VF& u0, VF& u1, VF& u2, VF& u3) const {
    V64 o0, o1, o2, o3;
    words64<kFold>(b0, o0, o1, o2, o3);
    u0 = to_float(o0);
    u1 = to_float(o1);
    u2 = to_float(o2);
    u3 = to_float(o3);
  }

 private:
  // The two vectors of blocks' final words (vector 0: lanes' blocks 2j, vector 1: 2j + 1) as
  // four vectors of 64-bit words in stream order.
  static HWY_INLINE void interleave(V64 a0, V64 a1, V64 a2, V64 a3, V64 b0, V64 b1, V64 b2, V64 b3,
                                    V64& o0, V64& o1, V64& o2, V64& o3) {
    const D64 d64;
    const D32 d32;
    // Lane k of w01 = word 0 | word 1 << 32 of lane k's block; w23 likewise.
    const auto pack = [&](V64 lo, V64 hi) {
      return hn::BitCast(
          d64, hn::OddEven(hn::BitCast(d32, hn::ShiftLeft<32>(hi)), hn::BitCast(d32, lo)));
    };
    const V64 a01 = pack(a0, a1), a23 = pack(a2, a3);
    const V64 b01 = pack(b0, b1), b23 = pack(b2, b3);
    o0 = hn::InterleaveLower(d64, a01, a23);
    o1 = hn::InterleaveUpper(d64, a01, a23);
    o2 = hn::InterleaveLower(d64, b01, b23);
    o3 = hn::InterleaveUpper(d64, b01, b23);
  }

  static HWY_INLINE VF to_float(V64 w) {
    const D32 d32;
    const DF df;
    const DI di;
    const V32 bits = hn::ShiftRight<8>(hn::BitCast(d32, w));
    return hn::Mul(hn::ConvertTo(df, hn::BitCast(di, bits)), hn::Set(df, 0x1p-24f));
  }

  // Lane blocks of vector g (see the top of the file) for the call starting at block b0.
  static HWY_INLINE V64 blocks(std::uint64_t b0, int g) {
    const D64 d64;
    const int log2_nb = static_cast<int>(hwy::FloorLog2(hn::Lanes(d64) / 2));
    const V64 lane = hn::Iota(d64, 0);
    const V64 odd = hn::And(lane, hn::Set(d64, 1));
    const V64 offset =
        hn::Add(hn::ShiftLeftSame(hn::Add(hn::Set(d64, 2 * static_cast<std::uint64_t>(g)), odd),
                                  log2_nb),
                hn::ShiftRight<1>(lane));
    return hn::Add(hn::Set(d64, b0), offset);
  }

  // Counters of vector g's lanes: {b mod 2^32, tag | ((b >> 32) & 0xFFFFFF), round, rank} for
  // lane block b (the low 32 bits of each lane).
  HWY_INLINE void start(std::uint64_t b0, int g, V64& c0, V64& c1, V64& c2, V64& c3) const {
    const D64 d64;
    const V64 b = blocks(b0, g);
    c0 = b;
    c1 = hn::Or(hn::And(hn::ShiftRight<32>(b), hn::Set(d64, 0xFFFFFFu)), hn::Set(d64, w_.tag));
    c2 = hn::Set(d64, w_.round);
    c3 = hn::Set(d64, w_.rank);
  }

  // Rounds 0 and 1 of start's counters. Words 2 and 3 being the same in every lane, round 0
  // needs one product, not two, and the xors of constants fold (tag's bits and the 24 counter
  // bits do not overlap, so | is ^).
  HWY_INLINE void first_rounds(std::uint64_t b0, int g, V64& c0, V64& c1, V64& c2, V64& c3) const {
    const D64 d64;
    const D32 d32;
    const V64 b = blocks(b0, g);
    // Round 0: word 0 of the counter is b's low half.
    const V64 p0 = hn::MulEven(hn::BitCast(d32, b), hn::Set(d32, kMul0));
    const V64 r0 =
        hn::Xor(hn::And(hn::ShiftRight<32>(b), hn::Set(d64, 0xFFFFFFu)), hn::Set(d64, x0_));
    const V64 r2 = hn::Xor(hn::ShiftRight<32>(p0), hn::Set(d64, x2_));
    // Round 1: word 1 is round 0's constant lo(round · kMul1), word 3 is lo(p0).
    const V64 q0 = hn::MulEven(hn::BitCast(d32, r0), hn::Set(d32, kMul0));
    const V64 q2 = hn::MulEven(hn::BitCast(d32, r2), hn::Set(d32, kMul1));
    c0 = hn::Xor(hn::ShiftRight<32>(q2), hn::Set(d64, x1_));
    c2 = hn::Xor3(hn::ShiftRight<32>(q0), p0, hn::Set(d64, k1_1_));
    c1 = q2;
    c3 = q0;
  }

  static HWY_INLINE void round(V64& c0, V64& c1, V64& c2, V64& c3, V64 k0, V64 k1) {
    const D32 d32;
    const V32 m0 = hn::Set(d32, kMul0), m1 = hn::Set(d32, kMul1);
    const V64 p0 = hn::MulEven(hn::BitCast(d32, c0), m0);
    const V64 p2 = hn::MulEven(hn::BitCast(d32, c2), m1);
    c0 = hn::Xor3(hn::ShiftRight<32>(p2), c1, k0);
    c2 = hn::Xor3(hn::ShiftRight<32>(p0), c3, k1);
    c1 = p2;
    c3 = p0;
  }

  PhiloxWords w_;
  std::uint32_t x0_, x1_, x2_, k1_1_;  // round 0 and 1 constants (constructor)
};

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();
#endif  // HWY_TARGET != HWY_SCALAR

#endif  // include guard toggle
