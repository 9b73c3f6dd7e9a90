#include "dme/quantization/quiver_approx.h"

#include <cmath>

#include "dme/core/error.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/asq_dp.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/levels.h"

namespace dme {

namespace detail {

void check_apx_arguments(std::size_t s, std::size_t m) {
  DME_CHECK(s >= 2 && s <= kMaxLevels,
            "quiver-apx: s must be in 2.." << kMaxLevels << ", got " << s);
  DME_CHECK(m >= s, "quiver-apx: the grid needs at least s intervals (m >= s), got m = "
                        << m << " and s = " << s);
  DME_CHECK(m <= kMaxApxGrid, "quiver-apx: m must be at most " << kMaxApxGrid << ", got " << m);
}

std::vector<float> apx_levels_on_grid(const GridStatistics& grid, std::size_t s, std::size_t m) {
  std::vector<float> values;
  // Room for every level that borders a nonempty bin (and the two ends): that set is optimal
  // among grid level sets, so the O(s m log m) DP is skipped (s large next to d or m).
  if (grid.bordering.size() + 2 <= s) {
    values.push_back(grid.level[0]);
    for (std::uint32_t t : grid.bordering) values.push_back(grid.level[t]);
    values.push_back(grid.level[m]);
  } else {
    const AsqCost cost{grid.points.data()};
    for (std::size_t t : asq_smawk_indices(cost, m + 1, s)) values.push_back(grid.level[t]);
  }
  std::vector<float> levels = unique_levels(std::move(values));
  top_up_levels(levels, grid.level, s);
  return levels;
}

}  // namespace detail

namespace {

// The arguments of the overloads given a range: s and m as quiver_approx's, [lo, hi] finite,
// x not empty.
void check_range_arguments(std::span<const float> x, std::size_t s, std::size_t m, float lo,
                           float hi) {
  detail::check_apx_arguments(s, m);
  DME_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo <= hi,
            "quiver-apx: the given range [" << lo << ", " << hi << "] is not a finite interval");
  DME_CHECK(!x.empty(), "quiver-apx: x is empty");
}

// [lo, hi] must hold every x[i]: NaN, Inf or a value outside it -> dme::Error naming it.
void check_contained(std::span<const float> x, float lo, float hi) {
  detail::scan_input(x, "quiver-apx");  // names a NaN or Inf first
  for (std::size_t i = 0; i < x.size(); ++i)
    DME_CHECK(x[i] >= lo && x[i] <= hi, "quiver-apx: x[" << i << "] = " << x[i]
                                                         << " is outside the given range [" << lo
                                                         << ", " << hi << "]");
}

}  // namespace

std::vector<float> quiver_approx(std::span<const float> x, std::size_t s, std::size_t m) {
  detail::check_apx_arguments(s, m);
  const Extrema<float> range = detail::scan_input(x, "quiver-apx");
  if (range.min == range.max) return {range.min};
  if (x.size() <= s) return detail::distinct_values(x);
  const detail::GridStatistics grid = detail::grid_statistics(x, range.min, range.max, m);
  DME_ASSERT(grid.contained);
  return detail::apx_levels_on_grid(grid, s, m);
}

std::vector<float> quiver_approx(std::span<const float> x, std::size_t s, std::size_t m, float lo,
                                 float hi) {
  check_range_arguments(x, s, m, lo, hi);
  if (lo == hi) return quiver_approx(x, s, m);  // constant (or mis-stated): the checked path
  if (x.size() <= s) {
    check_contained(x, lo, hi);
    return detail::distinct_values(x);
  }
  return quiver_approx_on_grid(x, s, m, lo, hi);
}

std::vector<float> quiver_approx_on_grid(std::span<const float> x, std::size_t s, std::size_t m,
                                         float lo, float hi) {
  check_range_arguments(x, s, m, lo, hi);
  if (lo == hi) {
    check_contained(x, lo, hi);
    return quiver_approx(x, s, m);  // constant: its one value, with the scan's zero sign
  }
  const detail::GridStatistics grid = detail::grid_statistics(x, lo, hi, m);
  if (!grid.contained) check_contained(x, lo, hi);
  return detail::apx_levels_on_grid(grid, s, m);
}

}  // namespace dme
