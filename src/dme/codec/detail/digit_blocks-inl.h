// Moving base-s digits between word order (the k digits of each word one after another, as the
// codes are) and rows (digit j of a batch of words, a lane per word), per SIMD target of fixed
// vector size: blocks of 8 digits gathered from (or scattered to) 8 words' places, and the 8×8
// transpose of 16-bit lanes inside every 128-bit block that turns 8 such columns into 8 rows and
// back. Used by mixed_radix.cpp (unpacking) and mixed_radix_pack.cpp (packing).
//
// Per-target header: include it after <hwy/highway.h> inside a foreach_target translation unit.
#if defined(DME_CODEC_DETAIL_DIGIT_BLOCKS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DME_CODEC_DETAIL_DIGIT_BLOCKS_INL_H_
#undef DME_CODEC_DETAIL_DIGIT_BLOCKS_INL_H_
#else
#define DME_CODEC_DETAIL_DIGIT_BLOCKS_INL_H_
#endif

#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>

HWY_BEFORE_NAMESPACE();
namespace dme::detail::codec::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace {

#if HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE
/// Block b of v (8 digits) to p + b·stride, for every block.
template <class D>
HWY_INLINE void store_blocks(D d, hn::Vec<D> v, std::uint16_t* p, std::size_t stride) {
  if constexpr (hn::MaxLanes(D()) <= 8) {
    hn::StoreU(v, d, p);
  } else {
    const hn::Half<D> dh;
    store_blocks(dh, hn::LowerHalf(dh, v), p, stride);
    store_blocks(dh, hn::UpperHalf(dh, v), p + hn::MaxLanes(D()) / 16 * stride, stride);
  }
}

/// The inverse of store_blocks: block b of the result from the 8 digits at p + b·stride.
template <class D>
HWY_INLINE hn::Vec<D> load_blocks(D d, const std::uint16_t* p, std::size_t stride) {
  if constexpr (hn::MaxLanes(D()) <= 8) {
    return hn::LoadU(d, p);
  } else {
    const hn::Half<D> dh;
    return hn::Combine(d, load_blocks(dh, p + hn::MaxLanes(D()) / 16 * stride, stride),
                       load_blocks(dh, p, stride));
  }
}

/// Inside every 128-bit block: lane c of out[r] is lane r of in[c] (u16 pairs, then u32 pairs,
/// then u64 pairs of vectors).
template <class D>
HWY_INLINE void transpose_blocks(D d16, const hn::Vec<D> (&in)[8], hn::Vec<D> (&out)[8]) {
  const hn::RepartitionToWide<D> dw32;
  const hn::RepartitionToWide<decltype(dw32)> dw64;
  const auto a0 = hn::BitCast(dw32, hn::InterleaveLower(d16, in[0], in[1]));
  const auto a1 = hn::BitCast(dw32, hn::InterleaveUpper(d16, in[0], in[1]));
  const auto a2 = hn::BitCast(dw32, hn::InterleaveLower(d16, in[2], in[3]));
  const auto a3 = hn::BitCast(dw32, hn::InterleaveUpper(d16, in[2], in[3]));
  const auto a4 = hn::BitCast(dw32, hn::InterleaveLower(d16, in[4], in[5]));
  const auto a5 = hn::BitCast(dw32, hn::InterleaveUpper(d16, in[4], in[5]));
  const auto a6 = hn::BitCast(dw32, hn::InterleaveLower(d16, in[6], in[7]));
  const auto a7 = hn::BitCast(dw32, hn::InterleaveUpper(d16, in[6], in[7]));
  const auto b0 = hn::BitCast(dw64, hn::InterleaveLower(dw32, a0, a2));
  const auto b1 = hn::BitCast(dw64, hn::InterleaveUpper(dw32, a0, a2));
  const auto b2 = hn::BitCast(dw64, hn::InterleaveLower(dw32, a1, a3));
  const auto b3 = hn::BitCast(dw64, hn::InterleaveUpper(dw32, a1, a3));
  const auto b4 = hn::BitCast(dw64, hn::InterleaveLower(dw32, a4, a6));
  const auto b5 = hn::BitCast(dw64, hn::InterleaveUpper(dw32, a4, a6));
  const auto b6 = hn::BitCast(dw64, hn::InterleaveLower(dw32, a5, a7));
  const auto b7 = hn::BitCast(dw64, hn::InterleaveUpper(dw32, a5, a7));
  out[0] = hn::BitCast(d16, hn::InterleaveLower(dw64, b0, b4));
  out[1] = hn::BitCast(d16, hn::InterleaveUpper(dw64, b0, b4));
  out[2] = hn::BitCast(d16, hn::InterleaveLower(dw64, b1, b5));
  out[3] = hn::BitCast(d16, hn::InterleaveUpper(dw64, b1, b5));
  out[4] = hn::BitCast(d16, hn::InterleaveLower(dw64, b2, b6));
  out[5] = hn::BitCast(d16, hn::InterleaveUpper(dw64, b2, b6));
  out[6] = hn::BitCast(d16, hn::InterleaveLower(dw64, b3, b7));
  out[7] = hn::BitCast(d16, hn::InterleaveUpper(dw64, b3, b7));
}
#endif  // HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE

}  // namespace
}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // DME_CODEC_DETAIL_DIGIT_BLOCKS_INL_H_
