// `dme-bench rounding`: stochastic and nearest rounding throughput, the vector kernels against
// the scalar definition in the same run.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace dme {

struct RoundingBenchConfig {
  std::vector<int> log2d = {20, 24};
  std::vector<int> s = {16};
  std::string dist = "normal";  ///< input distribution (a rotated vector is close to normal)
  int reps = 5;                 ///< timed runs per kernel (median)
  std::uint64_t seed = 1;
  bool csv = false;
};

/// Prints one row per (log2d, s): log2d, s, stochastic_ms, coords_per_s (stochastic rounding),
/// scalar_ms (the scalar definition), speedup (scalar over vector), nearest_ms,
/// nearest_coords_per_s, dequantize_ms, vnmse (one rounding), analytic_vnmse. Levels are
/// quiver-apx levels of the input. Returns 0, or 1 when a self-check fails: the vector and scalar
/// codes differ, or the sampled vNMSE is not within 10% of the analytic one.
int run_rounding_bench(const RoundingBenchConfig& config, std::ostream& os);

}  // namespace dme
