// Normalised magnitudes r_i = |x_i| / ‖x‖ ∈ [0, 1], sorted, for the sign-magnitude baselines
// (ALQ, AMQ), with the prefix sums that give the stochastic-rounding variance of any magnitude
// level set in O(levels · log d).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace dme::detail {

class Magnitudes {
 public:
  /// @param x  finite, size d >= 1, not all zero
  explicit Magnitudes(std::span<const float> x);

  std::size_t size() const { return r_.size(); }
  /// Sorted normalised magnitudes, ascending.
  const std::vector<double>& r() const { return r_; }
  double norm() const { return norm_; }
  float max_abs() const { return max_abs_; }
  bool has_negative() const { return has_negative_; }
  bool has_positive() const { return has_positive_; }

  /// Index of the first magnitude > v.
  std::size_t upper(double v) const;
  /// Σ r over [lo, hi) of the sorted order, and Σ r².
  double sum(std::size_t lo, std::size_t hi) const { return s1_[hi] - s1_[lo]; }
  double sum_squares(std::size_t lo, std::size_t hi) const { return s2_[hi] - s2_[lo]; }

  /// Σ_i (b - r_i)(r_i - a) for levels (ascending, front() <= min r, back() >= max r).
  double variance(const std::vector<double>& levels) const;

  /// Number of nonzero magnitude levels that fit s signed levels: (s - 1)/2 when x has both
  /// signs (levels ±ℓ and 0), s - 1 when it has one.
  std::size_t magnitude_count(std::size_t s) const;

  /// The signed level set of magnitude levels ml (ascending, ml.front() = 0, ml.back() = 1),
  /// scaled by ‖x‖, mirrored for the signs x has; covers [min x, max x].
  std::vector<float> signed_levels(const std::vector<double>& ml) const;

  /// {-top, top}: what fits s = 2 when x has both signs (no room for the zero level).
  std::vector<float> sign_levels() const;

 private:
  std::vector<double> r_, s1_, s2_;
  double norm_ = 0;
  float max_abs_ = 0;
  bool has_negative_ = false, has_positive_ = false;
};

}  // namespace dme::detail
