#include "dme/quantization/detail/level_set.h"

#include <algorithm>

#include "dme/quantization/detail/radix_sort.h"

namespace dme::detail {

std::vector<float> distinct_sorted(std::span<const float> sorted) {
  std::vector<float> out;
  for (std::size_t i = 0; i < sorted.size(); ++i)
    if (i == 0 || sorted[i] != sorted[i - 1]) out.push_back(sorted[i]);
  return out;
}

std::vector<float> distinct_values(std::span<const float> x) {
  std::vector<float> sorted(x.begin(), x.end());
  sort_floats(sorted);
  return distinct_sorted(sorted);
}

std::vector<float> unique_levels(std::vector<float> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

void top_up_levels(std::vector<float>& levels, std::span<const float> pool, std::size_t s) {
  if (pool.empty()) return;
  while (levels.size() < s) {
    // Gaps: between consecutive levels, plus below the first and above the last.
    struct Gap {
      double width;
      float value;
    };
    std::vector<Gap> gaps;
    const auto consider = [&](float a, float b, bool open_low, bool open_high) {
      const float* begin = pool.data();
      const float* end = begin + pool.size();
      const float* lo = open_low ? begin : std::upper_bound(begin, end, a);
      const float* hi = open_high ? end : std::lower_bound(begin, end, b);
      if (lo >= hi) return;
      const double mid = 0.5 * (static_cast<double>(a) + b);
      const float* near = std::lower_bound(lo, hi, static_cast<float>(mid));
      if (near == hi || (near > lo && mid - near[-1] < static_cast<double>(*near) - mid)) --near;
      gaps.push_back({static_cast<double>(b) - a, *near});
    };
    if (levels.empty()) {
      consider(pool.front(), pool.back(), true, true);
    } else {
      consider(pool.front(), levels.front(), true, false);
      for (std::size_t t = 0; t + 1 < levels.size(); ++t)
        consider(levels[t], levels[t + 1], false, false);
      consider(levels.back(), pool.back(), false, true);
    }
    if (gaps.empty()) return;
    std::sort(gaps.begin(), gaps.end(),
              [](const Gap& a, const Gap& b) { return a.width > b.width; });
    gaps.resize(std::min(gaps.size(), s - levels.size()));
    for (const Gap& g : gaps) levels.push_back(g.value);
    levels = unique_levels(std::move(levels));
  }
}

void top_up_from_input(std::vector<float>& levels, std::span<const float> x, std::size_t s) {
  if (levels.size() >= s) return;
  std::vector<float> pool(x.begin(), x.end());
  sort_floats(pool);
  top_up_levels(levels, pool, s);
}

}  // namespace dme::detail
