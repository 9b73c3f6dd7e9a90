#include "dme/rotation/adaptive_count.h"

#include <cmath>

#include "dme/core/error.h"
#include "dme/rotation/rht.h"

namespace dme {

MomentSummary moment_summary(std::span<const float> x) {
  DME_CHECK(!x.empty(), "adaptive rotation count: empty input");
  check_finite(x, "adaptive rotation count input");
  double s2 = 0, s3 = 0, s4 = 0;
  for (float f : x) {
    const double v = f, a = std::fabs(v), v2 = v * v;
    s2 += v2;
    s3 += v2 * a;
    s4 += v2 * v2;
  }
  MomentSummary m;
  if (s2 == 0) return m;
  const double dd = static_cast<double>(padded_length(x.size()));
  m.rho = std::sqrt(dd) * s3 / (s2 * std::sqrt(s2));
  m.kappa = dd * s4 / (s2 * s2);
  return m;
}

int adaptive_rotation_count(std::span<const float> x, double max_rho) {
  DME_CHECK(max_rho > 0, "adaptive rotation count: threshold must be positive, got " << max_rho);
  const MomentSummary m = moment_summary(x);
  return m.rho <= max_rho ? 1 : 2;
}

}  // namespace dme
