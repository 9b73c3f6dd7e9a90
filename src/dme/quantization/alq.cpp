#include "dme/quantization/alq.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "dme/core/error.h"
#include "dme/core/normal.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/magnitudes.h"

namespace dme {
namespace detail {
namespace {

constexpr int kMaxSweeps = 100;
constexpr int kBisections = 60;

// N(mu, sigma²) truncated to [0, 1]: CDF and the partial first moment ∫_a^b r dF(r).
class TruncatedNormal {
 public:
  TruncatedNormal(double mu, double sigma) : mu_(mu), sigma_(sigma) {
    phi0_ = phi_cdf(-mu / sigma);
    z_ = phi_cdf((1 - mu) / sigma) - phi0_;
  }
  double cdf(double r) const { return (phi_cdf((r - mu_) / sigma_) - phi0_) / z_; }
  double partial_mean(double a, double b) const {
    const double za = (a - mu_) / sigma_, zb = (b - mu_) / sigma_;
    return (mu_ * (phi_cdf(zb) - phi_cdf(za)) - sigma_ * (phi_pdf(zb) - phi_pdf(za))) / z_;
  }
  // The r in [a, b] with cdf(r) = target, given fa = cdf(a) and fb = cdf(b): μ + σ·Φ⁻¹(Φ(-μ/σ)
  // + target·Z), clamped to [a, b], one quantile instead of 60 bisection steps of cdf (alq took
  // 1.4 ms at s = 16 and 82 ms at s = 256 whatever d, and a bucketed vector paid that per
  // bucket). A target at either end is that end: where cdf is flat in double (levels many σ
  // above the magnitudes' mean, about half of them at s = 256) bisection converged there too.
  // Where the sum leaves (0, 1) in floating point, bisection (cdf is increasing).
  double inverse(double target, double a, double b, double fa, double fb) const {
    if (target <= fa) return a;
    if (target >= fb) return b;
    const double p = phi0_ + target * z_;
    if (p > 0 && p < 1) {
      const double r = mu_ + sigma_ * normal_quantile(p);
      if (std::isfinite(r)) return std::clamp(r, a, b);
    }
    for (int i = 0; i < kBisections; ++i) {
      const double mid = 0.5 * (a + b);
      (cdf(mid) < target ? a : b) = mid;
    }
    return 0.5 * (a + b);
  }
  bool usable() const { return z_ > 1e-300 && std::isfinite(z_); }

 private:
  static double phi_cdf(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }
  static double phi_pdf(double z) {
    return std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
  }
  double mu_, sigma_, phi0_, z_;
};

std::vector<double> uniform_magnitudes(std::size_t k) {
  std::vector<double> l(k + 1);
  for (std::size_t j = 0; j <= k; ++j) l[j] = static_cast<double>(j) / static_cast<double>(k);
  return l;
}

}  // namespace

std::vector<double> alq_truncated_normal_levels(const Magnitudes& m, std::size_t k) {
  std::vector<double> l = uniform_magnitudes(k);
  const double n = static_cast<double>(m.size());
  const double mean = m.sum(0, m.size()) / n;
  const double var = std::max(0.0, m.sum_squares(0, m.size()) / n - mean * mean);
  if (!(var > 0)) return l;
  const TruncatedNormal f(mean, std::sqrt(var));
  if (!f.usable()) return l;
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    double moved = 0;
    for (std::size_t j = 1; j < k; ++j) {
      const double a = l[j - 1], b = l[j + 1];
      const double fa = f.cdf(a), fb = f.cdf(b);
      const double lift = (f.partial_mean(a, b) - a * (fb - fa)) / (b - a);
      const double target = std::clamp(fb - lift, fa, fb);
      const double next = f.inverse(target, a, b, fa, fb);
      moved = std::max(moved, std::fabs(next - l[j]));
      l[j] = next;
    }
    if (moved < 1e-12) break;
  }
  return l;
}

std::vector<double> alq_empirical_descent(const Magnitudes& m, std::vector<double> l) {
  const std::vector<double>& r = m.r();
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    bool moved = false;
    for (std::size_t j = 1; j + 1 < l.size(); ++j) {
      const double a = l[j - 1], b = l[j + 1];
      const std::size_t lo = m.upper(a), hi = m.upper(b);
      if (lo == hi || !(b > a)) continue;  // no data between the neighbours: any level is optimal
      // The empirical update lands on the smallest r_t with #(a, r_t] >= Σ(b - r)/(b - a).
      const double need = (static_cast<double>(hi - lo) * b - m.sum(lo, hi)) / (b - a);
      const double steps = std::clamp(std::ceil(need) - 1, 0.0, static_cast<double>(hi - lo - 1));
      const double next = r[lo + static_cast<std::size_t>(steps)];
      if (next != l[j]) {
        l[j] = next;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return l;
}

}  // namespace detail

std::vector<float> alq_levels(std::span<const float> x, std::size_t s) {
  const Extrema<float> range = detail::scan_input(x, "alq");
  if (range.min == range.max) return {range.min};
  if (x.size() <= s) return detail::distinct_values(x);  // exact (the descent would crawl)
  const detail::Magnitudes m(x);
  const std::size_t k = m.magnitude_count(s);
  if (k == 0) return m.sign_levels();
  std::vector<double> l = detail::alq_truncated_normal_levels(m, k);
  l = detail::alq_empirical_descent(m, std::move(l));
  std::vector<float> levels = m.signed_levels(l);
  // Descent ties merged levels: fill up with input values (never increases the error).
  detail::top_up_from_input(levels, x, s);
  return levels;
}

}  // namespace dme
