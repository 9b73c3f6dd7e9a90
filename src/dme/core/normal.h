// The standard normal distribution: density, CDF and quantile, in double. Used by the input
// generators, the gaussianity statistics and EDEN's Lloyd–Max centroids.
#pragma once

#include <cmath>
#include <numbers>

namespace dme {

/// φ(x); 0 at ±infinity.
inline double normal_pdf(double x) {
  return std::isinf(x) ? 0.0 : std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi);
}

/// Φ(x), accurate in the lower tail (erfc has no cancellation for x < 0).
inline double normal_cdf(double x) {
  return 0.5 * std::erfc(-x / std::numbers::sqrt2);
}

/// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error 1.2e-9) and one
/// Halley step on erfc, which brings it to about double precision.
double normal_quantile(double p);

}  // namespace dme
