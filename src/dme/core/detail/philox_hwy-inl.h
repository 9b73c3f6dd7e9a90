// Philox4x32-10 on SIMD lanes with Google Highway, bit-identical to PhiloxStream::block(): one
// source for every target (scalar emulation, SSE4, AVX2, AVX-512, NEON, SVE).
//
// Each 64-bit lane runs one block; word w of the block is the low 32 bits of lane state c[w] (the
// high halves hold don't-care bits). A 32x32 -> 64-bit multiply of the low halves (MulEven) then
// gives a round's lo and hi at once: lo is the product (its high half ignored), hi one shift away;
// a round is 2 multiplies, 2 shifts and 2 three-way xors on 2 x (lanes/2) blocks.
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

  explicit PhiloxLanes(const PhiloxWords& w) : w_(w) {}

  /// Blocks per call: 2 · lanes64 (16 on AVX-512, 8 on AVX2, 4 on 128-bit targets).
  static std::size_t blocks_per_call() { return 2 * hn::Lanes(D64()); }

  /// The words of blocks b0 .. b0 + blocks_per_call() - 1 in stream order as 64-bit words
  /// (word 0 | word 1 << 32, word 2 | word 3 << 32 per block), four vectors: out[q] holds
  /// blocks b0 + q·B .. b0 + (q + 1)·B - 1.
  HWY_INLINE void words64(std::uint64_t b0, V64& o0, V64& o1, V64& o2, V64& o3) const {
    const D64 d64;
    const D32 d32;
    V64 a0, a1, a2, a3, b0v, b1, b2, b3;
    start(b0, 0, a0, a1, a2, a3);
    start(b0, 1, b0v, b1, b2, b3);
    std::uint32_t k0 = w_.key0, k1 = w_.key1;
    for (int r = 0; r < kRounds; ++r) {
      const V64 key0 = hn::Set(d64, k0), key1 = hn::Set(d64, k1);
      round(a0, a1, a2, a3, key0, key1);
      round(b0v, b1, b2, b3, key0, key1);
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    // Lane k of w01 = word 0 | word 1 << 32 of lane k's block; w23 likewise.
    const auto pack = [&](V64 lo, V64 hi) {
      return hn::BitCast(d64, hn::OddEven(hn::BitCast(d32, hn::ShiftLeft<32>(hi)),
                                          hn::BitCast(d32, lo)));
    };
    const V64 a01 = pack(a0, a1), a23 = pack(a2, a3);
    const V64 b01 = pack(b0v, b1), b23 = pack(b2, b3);
    o0 = hn::InterleaveLower(d64, a01, a23);
    o1 = hn::InterleaveUpper(d64, a01, a23);
    o2 = hn::InterleaveLower(d64, b01, b23);
    o3 = hn::InterleaveUpper(d64, b01, b23);
  }

  /// The 4 · blocks_per_call() draws of blocks b0 ... as uniform floats in [0, 1) in stream
  /// order (PhiloxStream::uniform_float): u0 holds draws 0 .. lanes32 - 1, u1 the next, ...
  HWY_INLINE void uniforms(std::uint64_t b0, VF& u0, VF& u1, VF& u2, VF& u3) const {
    V64 o0, o1, o2, o3;
    words64(b0, o0, o1, o2, o3);
    u0 = to_float(o0);
    u1 = to_float(o1);
    u2 = to_float(o2);
    u3 = to_float(o3);
  }

 private:
  static HWY_INLINE VF to_float(V64 w) {
    const D32 d32;
    const DF df;
    const DI di;
    const V32 bits = hn::ShiftRight<8>(hn::BitCast(d32, w));
    return hn::Mul(hn::ConvertTo(df, hn::BitCast(di, bits)), hn::Set(df, 0x1p-24f));
  }

  // Counters of vector g's lanes (see the top of the file) for the call starting at block b0.
  HWY_INLINE void start(std::uint64_t b0, int g, V64& c0, V64& c1, V64& c2, V64& c3) const {
    const D64 d64;
    const int log2_nb = static_cast<int>(hwy::FloorLog2(hn::Lanes(d64) / 2));
    const V64 lane = hn::Iota(d64, 0);
    const V64 odd = hn::And(lane, hn::Set(d64, 1));
    const V64 offset =
        hn::Add(hn::ShiftLeftSame(hn::Add(hn::Set(d64, 2 * static_cast<std::uint64_t>(g)), odd),
                                  log2_nb),
                hn::ShiftRight<1>(lane));
    const V64 b = hn::Add(hn::Set(d64, b0), offset);
    c0 = b;  // the low 32 bits are the counter's word 0
    c1 = hn::Or(hn::And(hn::ShiftRight<32>(b), hn::Set(d64, 0xFFFFFFu)), hn::Set(d64, w_.tag));
    c2 = hn::Set(d64, w_.round);
    c3 = hn::Set(d64, w_.rank);
  }

  static HWY_INLINE void round(V64& c0, V64& c1, V64& c2, V64& c3, V64 k0, V64 k1) {
    const D32 d32;
    const V32 m0 = hn::Set(d32, 0xD2511F53u), m1 = hn::Set(d32, 0xCD9E8D57u);
    const V64 p0 = hn::MulEven(hn::BitCast(d32, c0), m0);
    const V64 p2 = hn::MulEven(hn::BitCast(d32, c2), m1);
    c0 = hn::Xor3(hn::ShiftRight<32>(p2), c1, k0);
    c2 = hn::Xor3(hn::ShiftRight<32>(p0), c3, k1);
    c1 = p2;
    c3 = p0;
  }

  PhiloxWords w_;
};

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();
#endif  // HWY_TARGET != HWY_SCALAR

#endif  // include guard toggle
