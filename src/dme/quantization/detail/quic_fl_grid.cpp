// quic-fl's first rounding, to the grid of QuicFlQuantizer (quantization/quic_fl.h), for a block
// of coordinates: one Highway source for every SIMD target, chosen at run time
// (dme/core/simd.h). Each lane performs QuicFlQuantizer::grid_index's float operations in the
// same order (no FMA: cmake/DmeOptions.cmake), so every target gives the same grid points.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/quantization/detail/quic_fl_grid.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#ifndef DME_QUANTIZATION_QUIC_FL_GRID_ONCE
#define DME_QUANTIZATION_QUIC_FL_GRID_ONCE
#include "dme/quantization/detail/quic_fl_grid.h"
#include "dme/quantization/quic_fl.h"

namespace dme::detail {
namespace {

bool grid_scalar(const QuicFlQuantizer& q, const float* y, const std::uint32_t* w, std::size_t n,
                 float inv, std::uint32_t* grid) {
  bool exact = false;
  for (std::size_t i = 0; i < n; ++i) {
    grid[i] = q.grid_index(y[i] * inv, w[i]);
    exact |= grid[i] == QuicFlQuantizer::kExact;
  }
  return exact;
}

}  // namespace
}  // namespace dme::detail
#endif  // DME_QUANTIZATION_QUIC_FL_GRID_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

bool QuicFlGrid(const QuicFlQuantizer& q, const float* y, const std::uint32_t* w, std::size_t n,
                float inv, std::uint32_t* grid) {
  const hn::ScalableTag<float> df;
  const hn::RebindToSigned<decltype(df)> di;
  const hn::RebindToUnsigned<decltype(df)> du;
  const std::size_t lanes = hn::Lanes(df);
  const auto vinv = hn::Set(df, inv);
  const auto support = hn::Set(df, q.support_f());
  const auto inv_step = hn::Set(df, q.inv_step_f());
  const auto two24 = hn::Set(df, 0x1p24f);
  const auto one = hn::Set(di, 1);
  const auto last = hn::Set(di, static_cast<std::int32_t>(QuicFlQuantizer::kGridPoints - 1));
  const auto exact_mark = hn::BitCast(di, hn::Set(du, QuicFlQuantizer::kExact));
  auto all_inside = hn::FirstN(df, lanes);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto z = hn::Mul(hn::LoadU(df, y + i), vinv);
    const auto inside = hn::Le(hn::Abs(z), support);  // false for NaN
    all_inside = hn::And(all_inside, inside);
    const auto pos = hn::IfThenElseZero(inside, hn::Mul(hn::Add(z, support), inv_step));
    const auto j = hn::ConvertTo(di, pos);  // truncation: pos >= 0
    const auto frac = hn::Sub(pos, hn::ConvertTo(df, j));
    const auto u = hn::ConvertTo(df, hn::BitCast(di, hn::ShiftRight<8>(hn::LoadU(du, w + i))));
    const auto up = hn::RebindMask(di, hn::Lt(u, hn::Mul(frac, two24)));
    const auto point = hn::Min(hn::Add(j, hn::IfThenElseZero(up, one)), last);
    hn::StoreU(hn::BitCast(du, hn::IfThenElse(hn::RebindMask(di, inside), point, exact_mark)), du,
               grid + i);
  }
  const bool tail = grid_scalar(q, y + i, w + i, n - i, inv, grid + i);
  return tail || !hn::AllTrue(df, all_inside);
}

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail {

HWY_EXPORT(QuicFlGrid);

bool quic_fl_grid(const QuicFlQuantizer& q, const float* y, const std::uint32_t* w, std::size_t n,
                  float inv, std::uint32_t* grid) {
  simd_init();
  return HWY_DYNAMIC_DISPATCH(QuicFlGrid)(q, y, w, n, inv, grid);
}

bool quic_fl_grid_scalar(const QuicFlQuantizer& q, const float* y, const std::uint32_t* w,
                         std::size_t n, float inv, std::uint32_t* grid) {
  return grid_scalar(q, y, w, n, inv, grid);
}

}  // namespace dme::detail
#endif  // HWY_ONCE
