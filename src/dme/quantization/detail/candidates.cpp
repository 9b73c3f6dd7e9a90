#include "dme/quantization/detail/candidates.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "dme/core/error.h"
#include "dme/quantization/detail/compensated_sum.h"

namespace dme::detail {

double compensated_mean(std::span<const float> x) {
  CompensatedSum sum;
  for (float v : x) sum.add(v);
  return x.empty() ? 0.0 : sum.value() / static_cast<double>(x.size());
}

void centred_prefix(std::span<const float> sorted, double shift, SortedPoint* out) {
  CompensatedSum sum;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    const double y = static_cast<double>(sorted[t]) - shift;
    sum.add(y);
    out[t] = {y, sum.value()};
  }
}

std::vector<double> centred_exclusive_prefix(std::span<const float> sorted, double shift) {
  std::vector<double> prefix(sorted.size() + 1);
  CompensatedSum sum;
  prefix[0] = 0;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    sum.add(static_cast<double>(sorted[t]) - shift);
    prefix[t + 1] = sum.value();
  }
  return prefix;
}

std::vector<double> centred_square_prefix(std::span<const float> sorted, double shift) {
  std::vector<double> prefix(sorted.size());
  CompensatedSum sum;
  for (std::size_t t = 0; t < sorted.size(); ++t) {
    const double y = static_cast<double>(sorted[t]) - shift;
    sum.add(y * y);
    prefix[t] = sum.value();
  }
  return prefix;
}

namespace {

constexpr std::size_t kCopies = 4;  // interleaved histograms: repeated bins do not serialise

std::vector<float> uniform_grid(float lo, float hi, std::size_t m) {
  std::vector<float> level(m + 1);
  const double width = static_cast<double>(hi) - lo;
  for (std::size_t t = 0; t <= m; ++t)
    level[t] = static_cast<float>(lo + width * static_cast<double>(t) / static_cast<double>(m));
  level[0] = lo;
  level[m] = hi;
  return level;
}

}  // namespace

GridStatistics grid_statistics(std::span<const float> x, float lo, float hi, std::size_t m) {
  DME_ASSERT(lo < hi && m >= 1);
  GridStatistics g;
  g.level = uniform_grid(lo, hi, m);
  g.shift = 0.5 * (static_cast<double>(lo) + hi);
  const std::size_t bins = m + 1;
  std::vector<std::uint32_t> count(kCopies * bins, 0);
  std::vector<double> sum(kCopies * bins, 0.0);
  const float* level = g.level.data();
  const float scale = static_cast<float>(static_cast<double>(m) / (static_cast<double>(hi) - lo));
  const double shift = g.shift;
  const auto bin_of = [&](float v) {
    std::size_t t = static_cast<std::size_t>(
        std::clamp(std::ceil((v - lo) * scale), 0.0f, static_cast<float>(m)));
    // The float estimate can be one bin off near grid points: fix it against the levels.
    while (t < m && level[t] < v) ++t;
    while (t > 0 && level[t - 1] >= v) --t;
    return t;
  };
  const std::size_t n = x.size(), full = n / kCopies * kCopies;
  for (std::size_t i = 0; i < full; i += kCopies) {
    for (std::size_t c = 0; c < kCopies; ++c) {
      const float v = x[i + c];
      const std::size_t t = c * bins + bin_of(v);
      ++count[t];
      sum[t] += static_cast<double>(v) - shift;
    }
  }
  for (std::size_t i = full; i < n; ++i) {
    const std::size_t t = bin_of(x[i]);
    ++count[t];
    sum[t] += static_cast<double>(x[i]) - shift;
  }
  g.points.resize(bins);
  double alpha = 0;
  CompensatedSum beta;
  for (std::size_t t = 0; t < bins; ++t) {
    for (std::size_t c = 0; c < kCopies; ++c) {
      alpha += count[c * bins + t];
      beta.add(sum[c * bins + t]);
    }
    g.points[t] = {static_cast<double>(level[t]) - shift, alpha, beta.value()};
  }
  return g;
}

}  // namespace dme::detail
