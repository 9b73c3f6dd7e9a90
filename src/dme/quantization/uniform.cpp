#include "dme/quantization/uniform.h"

#include "dme/core/error.h"
#include "dme/quantization/detail/level_set.h"

namespace dme {

std::vector<float> uniform_levels(float lo, float hi, std::size_t s) {
  DME_ASSERT(lo <= hi && s >= 2);
  if (lo == hi) return {lo};
  std::vector<float> levels(s);
  const double width = static_cast<double>(hi) - lo;
  for (std::size_t t = 0; t < s; ++t)
    levels[t] =
        static_cast<float>(lo + width * static_cast<double>(t) / static_cast<double>(s - 1));
  levels.front() = lo;
  levels.back() = hi;
  return detail::unique_levels(std::move(levels));
}

}  // namespace dme
