#include "dme/quantization/norm_grid.h"

#include "dme/core/error.h"

namespace dme {

std::vector<float> norm_grid_unit(std::size_t s) {
  DME_ASSERT(s >= 2 && s <= 65536);
  std::vector<float> unit(s);
  for (std::size_t t = 0; t < s; ++t) unit[t] = norm_grid_point(t, s);
  return unit;
}

NormGrid norm_grid(float norm, std::span<const float> unit) {
  NormGrid g;
  g.levels.resize(unit.size());
  bool distinct = true;
  for (std::size_t t = 0; t < unit.size(); ++t) {
    g.levels[t] = norm * unit[t];
    distinct &= t == 0 || g.levels[t - 1] < g.levels[t];
  }
  if (distinct) return g;
  // fl(norm · u) is non-decreasing in u: equal levels are neighbours.
  std::size_t kept = 0;
  for (std::size_t t = 0; t < unit.size(); ++t) {
    if (t > 0 && g.levels[t] == g.levels[kept - 1]) continue;
    g.levels[kept++] = g.levels[t];
    g.code_of.push_back(static_cast<std::uint16_t>(t));
  }
  g.levels.resize(kept);
  return g;
}

}  // namespace dme
