#include "dme/bench/rounding_bench.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/detail/rounding_kernels.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/rounding.h"
#include "dme/quantization/solver.h"

namespace dme {

int run_rounding_bench(const RoundingBenchConfig& c, std::ostream& os) {
  DME_CHECK(c.reps >= 1, "--reps must be at least 1, got " << c.reps);
  for (int l : c.log2d) DME_CHECK(l >= 1 && l <= 28, "--log2d values must be in 1..28, got " << l);
  for (int s : c.s)
    DME_CHECK(s >= 2 && s <= static_cast<int>(kMaxLevels),
              "--s values must be in 2.." << kMaxLevels << ", got " << s);
  const Distribution dist = parse_distribution(c.dist);
  Table table({"log2d", "s", "stochastic_ms", "coords_per_s", "scalar_ms", "speedup", "nearest_ms",
               "nearest_coords_per_s", "dequantize_ms", "vnmse", "analytic_vnmse"},
              c.csv);
  table.print_header(os);
  int status = 0;
  for (int l : c.log2d) {
    const std::size_t d = std::size_t(1) << l;
    std::vector<float> x(d), xhat(d);
    generate(dist, DistributionParams{}, c.seed, 0, 0, x);
    std::vector<std::uint16_t> codes(d), reference(d);
    for (int s : c.s) {
      const std::vector<float> levels =
          solve_levels(x, static_cast<std::size_t>(s), Solver::kQuiverApx);
      const PhiloxStream stream(c.seed, 0, 0, Purpose::kRounding);
      const double stochastic_ms =
          median_ms(c.reps, [&] { stochastic_round(x, levels, stream, 0, codes); });
      const double scalar_ms = median_ms(std::min(c.reps, 3), [&] {
        detail::stochastic_round_scalar(x.data(), d, levels, stream, 0, reference.data());
      });
      if (codes != reference) {
        std::cerr << "dme-bench rounding: vector and scalar codes differ at log2d " << l << ", s "
                  << s << "\n";
        status = 1;
      }
      dequantize(codes, levels, xhat);
      const double sampled = vnmse(x, xhat), analytic = analytic_vnmse(x, levels);
      // One rounding of 2^l coordinates: the relative spread of the sampled vNMSE is O(2^-l/2).
      if (std::fabs(sampled - analytic) > 0.1 * analytic) {
        std::cerr << "dme-bench rounding: sampled vNMSE " << sampled
                  << " is not within 10% of the analytic " << analytic << " at log2d " << l
                  << ", s " << s << "\n";
        status = 1;
      }
      const double dequantize_ms = median_ms(c.reps, [&] { dequantize(codes, levels, xhat); });
      const double nearest_ms = median_ms(c.reps, [&] { nearest_round(x, levels, reference); });
      table.print_row(
          os, {static_cast<long long>(l), static_cast<long long>(s), stochastic_ms,
               static_cast<double>(d) / (stochastic_ms * 1e-3), scalar_ms,
               scalar_ms / stochastic_ms, nearest_ms, static_cast<double>(d) / (nearest_ms * 1e-3),
               dequantize_ms, sampled, analytic});
    }
  }
  return status;
}

}  // namespace dme
