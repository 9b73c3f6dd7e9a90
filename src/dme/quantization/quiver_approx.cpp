#include "dme/quantization/quiver_approx.h"

#include "dme/core/error.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/asq_dp.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/levels.h"

namespace dme {

std::vector<float> quiver_approx(std::span<const float> x, std::size_t s, std::size_t m) {
  DME_CHECK(s >= 2 && s <= kMaxLevels,
            "quiver-apx: s must be in 2.." << kMaxLevels << ", got " << s);
  DME_CHECK(m >= s, "quiver-apx: the grid needs at least s intervals (m >= s), got m = "
                        << m << " and s = " << s);
  DME_CHECK(m <= kMaxApxGrid, "quiver-apx: m must be at most " << kMaxApxGrid << ", got " << m);
  const detail::InputSummary range = detail::scan_input(x, "quiver-apx");
  if (range.min == range.max) return {range.min};
  const detail::GridStatistics grid = detail::grid_statistics(x, range.min, range.max, m);
  const detail::AsqCost cost{grid.points.data()};
  std::vector<float> values;
  for (std::size_t t : detail::asq_smawk_indices(cost, m + 1, s)) values.push_back(grid.level[t]);
  std::vector<float> levels = detail::unique_levels(std::move(values));
  detail::top_up_levels(levels, grid.level, s);
  return levels;
}

}  // namespace dme
