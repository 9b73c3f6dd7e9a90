#include "dme/quantization/levels.h"

#include <cmath>

#include "dme/core/error.h"

namespace dme {

void check_levels(std::span<const float> levels) {
  DME_CHECK(!levels.empty(), "level set is empty");
  DME_CHECK(levels.size() <= kMaxLevels, "level set has " << levels.size() << " values; at most "
                                                          << kMaxLevels << " fit 16-bit codes");
  for (std::size_t t = 0; t < levels.size(); ++t) {
    DME_CHECK(std::isfinite(levels[t]), "level " << t << " is " << levels[t]);
    DME_CHECK(t == 0 || levels[t - 1] < levels[t], "levels must be strictly increasing: level "
                                                       << t - 1 << " = " << levels[t - 1]
                                                       << ", level " << t << " = " << levels[t]);
  }
}

}  // namespace dme
