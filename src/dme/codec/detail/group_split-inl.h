// The first split of the grouped mixed-radix kernel (mixed_radix.cpp): a batch's 64-bit words
// cut at P = s^(p·m) (RadixTable::first_cut) into lo = v mod P and hi = floor(v / P), both below
// 2^40 for a valid word, as exact doubles, per SIMD target of fixed vector size.
//
// Per-target header: include it after <hwy/highway.h> inside a foreach_target translation unit.
#if defined(DME_CODEC_DETAIL_GROUP_SPLIT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DME_CODEC_DETAIL_GROUP_SPLIT_INL_H_
#undef DME_CODEC_DETAIL_GROUP_SPLIT_INL_H_
#else
#define DME_CODEC_DETAIL_GROUP_SPLIT_INL_H_
#endif

#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>

#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/mixed_radix.h"

HWY_BEFORE_NAMESPACE();
namespace dme::detail::codec::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
namespace {

#if HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE
#if HWY_NATIVE_FMA
/// x < 2^52 in a 64-bit lane, as a double (exact).
template <class DD>
HWY_INLINE hn::Vec<DD> exact_double(DD dd, hn::Vec<hn::RebindToUnsigned<DD>> x) {
  const hn::RebindToUnsigned<DD> du;
  const auto two52 = hn::Set(dd, 0x1p52);
  return hn::Sub(hn::BitCast(dd, hn::Or(x, hn::BitCast(du, two52))), two52);
}

/// lo and hi of the Lanes(dd) little-endian words at in, in doubles. v = a·2^32 + b with
/// v / P < 2^40, P < 2^40: u = fl(b·fl(1 / P) + fl(a·fl(1 / P)·2^32 - 2^-10)) is within 3·2^-13
/// (a rounding of 1 / P and two of results below 2^40), under 2^-11, of v / P - 2^-10, so u lies
/// in (v / P - 1, v / P) and q = floor(u) is floor(v / P) or one less; then a·2^32 - q·P is an
/// integer of magnitude below 2^42 (it equals v - q·P - b with v - q·P in [0, 2P)), which a
/// fused multiply-add computes exactly, and adding b gives r = v - q·P exactly; one step brings
/// r into [0, P) and q with it.
template <class DD>
HWY_INLINE void first_split(DD dd, const std::byte* in, const RadixTable& t, hn::Vec<DD>& lo,
                            hn::Vec<DD>& hi) {
  const hn::RebindToUnsigned<DD> du;
  const auto v = hn::LoadU(du, reinterpret_cast<const std::uint64_t*>(in));
  const auto a = exact_double(dd, hn::ShiftRight<32>(v));
  const auto b = exact_double(dd, hn::And(v, hn::Set(du, std::uint64_t{0xFFFFFFFF})));
  const auto p0 = hn::Set(dd, t.split_pow[0]);
  const auto q =
      hn::Floor(hn::MulAdd(b, hn::Set(dd, t.split_inv[0]),
                           hn::MulAdd(a, hn::Set(dd, t.split0_scaled), hn::Set(dd, -0x1p-10))));
  const auto r = hn::Add(hn::NegMulAdd(q, p0, hn::Mul(a, hn::Set(dd, 0x1p32))), b);  // [0, 2P)
  const auto carry = hn::IfThenElseZero(hn::Ge(r, p0), hn::Set(dd, 1.0));
  lo = hn::NegMulAdd(carry, p0, r);
  hi = hn::Add(q, carry);
}
#else
/// lo and hi of the Lanes(dd) little-endian words at in, without a fused multiply-add (SSE4):
/// one exact integer division per word (RadixTable::group_cut, a multiply-high), the parts
/// converted to doubles through memory. A word out of range gives a hi above 2^40, rounded:
/// wrong digits, as for every kernel, and no access depends on it.
template <class DD>
HWY_INLINE void first_split(DD dd, const std::byte* in, const RadixTable& t, hn::Vec<DD>& lo,
                            hn::Vec<DD>& hi) {
  constexpr std::size_t kLanes = hn::MaxLanes(DD());
  HWY_ALIGN double l[kLanes], h[kLanes];
  const std::uint64_t cut_pow = t.pow[t.group_digits * t.first_cut];
  for (std::size_t i = 0; i < kLanes; ++i) {
    const std::uint64_t v = load_le<std::uint64_t>(in + 8 * i);
    const std::uint64_t q = t.group_cut.divide(v);
    l[i] = static_cast<double>(static_cast<std::int64_t>(v - q * cut_pow));
    // q < 2^63 (cut_pow >= 2): a signed conversion is one instruction, an unsigned one a
    // branchy sequence before AVX-512. AMD EPYC Zen 5, s = 10 unpack of 2^20 codes: 0.156 ->
    // 0.149 ms (fixed 4-bit 0.048), alternated three times.
    h[i] = static_cast<double>(static_cast<std::int64_t>(q));
  }
  lo = hn::Load(dd, l);
  hi = hn::Load(dd, h);
}
#endif  // HWY_NATIVE_FMA
#endif  // HWY_TARGET != HWY_SCALAR && !HWY_HAVE_SCALABLE

}  // namespace
}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif  // DME_CODEC_DETAIL_GROUP_SPLIT_INL_H_
