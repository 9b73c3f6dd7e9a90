#include "dme/quantization/metrics.h"

#include <limits>
#include <vector>

#include "dme/core/error.h"
#include "dme/quantization/detail/rounding_kernels.h"
#include "dme/quantization/levels.h"
#include "dme/quantization/rounding.h"

namespace dme {
double normalized_error(double error, double norm2) {
  if (norm2 > 0) return error / norm2;
  return error == 0 ? 0.0 : std::numeric_limits<double>::infinity();
}

double analytic_sse(std::span<const float> x, std::span<const float> levels) {
  check_levels(levels);
  DME_CHECK(!x.empty(), "analytic_vnmse: x is empty");
  const std::size_t s = levels.size();
  long double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    DME_CHECK(x[i] >= levels.front() && x[i] <= levels.back(),
              "analytic_vnmse: x[" << i << "] = " << x[i] << " is outside the level range ["
                                   << levels.front() << ", " << levels.back() << "]");
    if (s == 1) continue;
    const std::size_t c = detail::level_interval(x[i], levels.data(), s);
    const long double a = levels[c], b = levels[c + 1], v = x[i];
    sum += (b - v) * (v - a);
  }
  return static_cast<double>(sum);
}

double analytic_vnmse(std::span<const float> x, std::span<const float> levels) {
  const double sse = analytic_sse(x, levels);
  return normalized_error(sse, squared_norm(x));
}

double sum_squared_error(std::span<const float> x, std::span<const float> xhat) {
  DME_CHECK(x.size() == xhat.size(),
            "sum_squared_error: x has size " << x.size() << " but xhat has size " << xhat.size());
  double sum = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(xhat[i]) - static_cast<double>(x[i]);
    sum += e * e;
  }
  return sum;
}

double mse(std::span<const float> x, std::span<const float> xhat) {
  DME_CHECK(!x.empty(), "mse: x is empty");
  return sum_squared_error(x, xhat) / static_cast<double>(x.size());
}

double sampled_vnmse(std::span<const float> x, std::span<const float> levels, std::uint64_t seed,
                     int trials) {
  DME_CHECK(trials >= 1, "sampled_vnmse: trials must be at least 1, got " << trials);
  std::vector<std::uint16_t> codes(x.size());
  std::vector<float> xhat(x.size());
  double sum = 0;
  for (int t = 0; t < trials; ++t) {
    const PhiloxStream stream(seed, static_cast<std::uint32_t>(t), 0, Purpose::kRounding);
    stochastic_round(x, levels, stream, 0, codes);
    dequantize(codes, levels, xhat);
    sum += vnmse(x, xhat);
  }
  return sum / trials;
}

double squared_norm(std::span<const float> x) {
  double sum = 0;
  for (float v : x) sum += static_cast<double>(v) * v;
  return sum;
}

double vnmse(std::span<const float> x, std::span<const float> xhat) {
  return normalized_error(sum_squared_error(x, xhat), squared_norm(x));
}

double level_set_vnmse(std::span<const float> x, std::span<const float> levels, bool biased) {
  if (!biased) return analytic_vnmse(x, levels);
  std::vector<std::uint16_t> codes(x.size());
  std::vector<float> xhat(x.size());
  nearest_round(x, levels, codes);
  dequantize(codes, levels, xhat);
  return vnmse(x, xhat);
}

}  // namespace dme
