#include "dme/quantization/detail/magnitudes.h"

#include <algorithm>
#include <cmath>

#include "dme/core/error.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/radix_sort.h"

namespace dme::detail {

Magnitudes::Magnitudes(std::span<const float> x) {
  const std::size_t d = x.size();
  std::vector<float> a(d);
  CompensatedSum norm2;
  for (std::size_t i = 0; i < d; ++i) {
    a[i] = std::fabs(x[i]);
    norm2.add(static_cast<double>(x[i]) * x[i]);
    has_negative_ |= x[i] < 0;
    has_positive_ |= x[i] > 0;
  }
  norm_ = std::sqrt(norm2.value());
  DME_ASSERT(norm_ > 0);
  sort_floats(a);
  max_abs_ = a.back();
  r_.resize(d);
  s1_.resize(d + 1);
  s2_.resize(d + 1);
  CompensatedSum c1, c2;
  for (std::size_t i = 0; i < d; ++i) {
    r_[i] = std::min(1.0, a[i] / norm_);
    c1.add(r_[i]);
    c2.add(r_[i] * r_[i]);
    s1_[i + 1] = c1.value();
    s2_[i + 1] = c2.value();
  }
}

std::size_t Magnitudes::upper(double v) const {
  return static_cast<std::size_t>(std::upper_bound(r_.begin(), r_.end(), v) - r_.begin());
}

double Magnitudes::variance(const std::vector<double>& levels) const {
  double total = 0;
  std::size_t lo = upper(levels.front());
  for (std::size_t t = 0; t + 1 < levels.size(); ++t) {
    const double a = levels[t], b = levels[t + 1];
    const std::size_t hi = upper(b);
    const double n = static_cast<double>(hi - lo);
    total += (a + b) * sum(lo, hi) - a * b * n - sum_squares(lo, hi);
    lo = hi;
  }
  return std::max(0.0, total);
}

std::size_t Magnitudes::magnitude_count(std::size_t s) const {
  return has_negative_ && has_positive_ ? (s - 1) / 2 : s - 1;
}

std::vector<float> Magnitudes::sign_levels() const {
  const float top = std::max(static_cast<float>(norm_), max_abs_);
  return {-top, top};
}

std::vector<float> Magnitudes::signed_levels(const std::vector<double>& ml) const {
  // The top level is ‖x‖, or max|x| when float rounding of ‖x‖ falls below it (a one-hot x).
  const float top = std::max(static_cast<float>(norm_), max_abs_);
  std::vector<float> out;
  for (std::size_t t = 0; t < ml.size(); ++t) {
    const float v = t + 1 == ml.size() ? top : static_cast<float>(ml[t] * norm_);
    if (has_positive_ || t == 0) out.push_back(v);
    if (has_negative_ && t > 0) out.push_back(-v);
  }
  return unique_levels(std::move(out));
}

}  // namespace dme::detail
