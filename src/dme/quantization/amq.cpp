#include "dme/quantization/amq.h"

#include <cmath>

#include "dme/core/error.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/detail/magnitudes.h"

namespace dme {
namespace {

constexpr int kScan = 64;
constexpr int kGoldenSteps = 60;

std::vector<double> exponential_levels(double p, std::size_t k) {
  std::vector<double> l(k + 1);
  l[0] = 0;
  l[k] = 1;
  for (std::size_t j = k - 1; j >= 1; --j) l[j] = l[j + 1] * p;
  return l;
}

double best_multiplier(const detail::Magnitudes& m, std::size_t k) {
  const auto cost = [&](double p) { return m.variance(exponential_levels(p, k)); };
  int best = 1;
  double best_cost = cost(1.0 / kScan);
  for (int g = 2; g < kScan; ++g) {
    const double c = cost(static_cast<double>(g) / kScan);
    if (c < best_cost) {
      best_cost = c;
      best = g;
    }
  }
  // Golden-section search on the bracket around the best scanned value.
  const double phi = (std::sqrt(5.0) - 1) / 2;
  double a = static_cast<double>(best - 1) / kScan, b = static_cast<double>(best + 1) / kScan;
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = cost(c), fd = cost(d);
  for (int i = 0; i < kGoldenSteps; ++i) {
    if (fc <= fd) {
      b = d, d = c, fd = fc;
      c = b - phi * (b - a);
      fc = cost(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + phi * (b - a);
      fd = cost(d);
    }
  }
  const double p = fc <= fd ? c : d;
  return std::min(fc, fd) <= best_cost ? p : static_cast<double>(best) / kScan;
}

}  // namespace

double amq_multiplier(std::span<const float> x, std::size_t s) {
  const Extrema<float> range = detail::scan_input(x, "amq");
  DME_CHECK(range.min != range.max, "amq: a constant input has no multiplier");
  const detail::Magnitudes m(x);
  const std::size_t k = m.magnitude_count(s);
  return k <= 1 ? 0.0 : best_multiplier(m, k);
}

std::vector<float> amq_levels(std::span<const float> x, std::size_t s) {
  const Extrema<float> range = detail::scan_input(x, "amq");
  if (range.min == range.max) return {range.min};
  if (x.size() <= s) return detail::distinct_values(x);  // exact (the descent would crawl)
  const detail::Magnitudes m(x);
  const std::size_t k = m.magnitude_count(s);
  if (k == 0) return m.sign_levels();
  const double p = k == 1 ? 0.0 : best_multiplier(m, k);
  std::vector<float> levels = m.signed_levels(exponential_levels(p, k));
  detail::top_up_from_input(levels, x, s);
  return levels;
}

}  // namespace dme
