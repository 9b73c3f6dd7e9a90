// Float tables indexed by vector lanes, for the kernels that map codes or interval indices to
// levels (quantization/detail/rounding_kernels.cpp, codec/detail/level_lookup.cpp): tables of up
// to kVecs vectors held in registers (TableLookupLanes on each, selected by the index's high
// bits), or gathers (kVecs = 0). Scalable vectors (SVE) cannot live in arrays, so there every
// table is gathered (SVE gathers are fast enough).
//
// Per-target header: include it after <hwy/highway.h> inside a foreach_target translation unit.
#if defined(DME_CORE_DETAIL_LANE_TABLE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef DME_CORE_DETAIL_LANE_TABLE_INL_H_
#undef DME_CORE_DETAIL_LANE_TABLE_INL_H_
#else
#define DME_CORE_DETAIL_LANE_TABLE_INL_H_
#endif

#include <hwy/highway.h>

// HWY_SCALAR (one lane) kernels run their scalar loops and need no tables.
#if HWY_TARGET != HWY_SCALAR
HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

/// t(i): table[i] for each lane of the int32 index vector i (0 <= i < kVecs · lanes, or any
/// valid index of the table when kVecs = 0).
template <int kVecs>
struct LaneTable;
#if !HWY_HAVE_SCALABLE
template <int kVecs>
struct LaneTable {
  using DF = hn::ScalableTag<float>;
  using DI = hn::RebindToSigned<DF>;
  hn::Vec<DF> t[kVecs];
  int shift;
  explicit LaneTable(const float* table)
      : shift(static_cast<int>(hwy::FloorLog2(hn::Lanes(DF())))) {
    for (int k = 0; k < kVecs; ++k) t[k] = hn::LoadU(DF(), table + k * hn::Lanes(DF()));
  }
  HWY_INLINE hn::Vec<DF> operator()(hn::Vec<DI> i) const {
    const DF df;
    const DI di;
    if constexpr (kVecs == 1) {
      return hn::TableLookupLanes(t[0], hn::IndicesFromVec(df, i));
#if HWY_TARGET == HWY_AVX2
    } else if constexpr (kVecs == 2) {
      // VPERMPS reads the index's low 3 bits and VBLENDVPS the mask's sign bit: index bit 3,
      // shifted there, picks the table with no masking or compare (4 instructions, not 6):
      // decode_accumulate of 2^20 4-bit codes 0.25-0.26 -> 0.23 ms (Intel Xeon family 6 model 207).
      const __m256 lo = _mm256_permutevar8x32_ps(t[0].raw, i.raw);
      const __m256 hi = _mm256_permutevar8x32_ps(t[1].raw, i.raw);
      return hn::Vec<DF>{
          _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(i.raw, 28)))};
#endif
    } else {
      const auto idx = hn::IndicesFromVec(df, hn::And(i, hn::Set(di, (1 << shift) - 1)));
      const hn::Vec<DI> which = hn::ShiftRightSame(i, shift);
      hn::Vec<DF> r = hn::TableLookupLanes(t[0], idx);
      for (int k = 1; k < kVecs; ++k)
        r = hn::IfThenElse(hn::RebindMask(df, hn::Eq(which, hn::Set(di, k))),
                           hn::TableLookupLanes(t[k], idx), r);
      return r;
    }
  }
};
#endif
template <>
struct LaneTable<0> {
  using DF = hn::ScalableTag<float>;
  using DI = hn::RebindToSigned<DF>;
  const float* t;
  explicit LaneTable(const float* table) : t(table) {}
  HWY_INLINE hn::Vec<DF> operator()(hn::Vec<DI> i) const { return hn::GatherIndex(DF(), t, i); }
};

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();
#endif  // HWY_TARGET != HWY_SCALAR

#endif  // DME_CORE_DETAIL_LANE_TABLE_INL_H_
