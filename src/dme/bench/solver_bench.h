// `dme-bench solvers`: level-solver time against std::sort of the same input, and the error of
// each solver's levels against the exact optimum, measured in one run.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "dme/collective/options.h"

namespace dme {

struct SolverBenchConfig {
  std::vector<int> log2d = {12, 16, 20, 24};
  std::vector<int> s = {4, 16, 64};
  std::vector<int> m = {400};  ///< grid sizes for quiver-apx and zipml-cp-*; other solvers ignore m
  std::vector<std::string> solvers = {"quiver", "quiver-accel",  "quiver-apx",
                                      "kmeans", "zipml-cp-unif", "alq"};
  std::string dist = "lognormal";  ///< lognormal, normal, exponential, truncnorm, weibull
  int reps = 3;                    ///< timed runs per cell (median), fewer past budget_s
  double budget_s = 3.0;           ///< stop repeating a cell once its runs took this long
  std::uint64_t seed = 1;
  bool csv = false;
  Backend backend = Backend::kCpu;  ///< where it runs (bench/device.h)
};

/// Prints one row per (solver, log2d, s, m): solver, dist, log2d, s, m, ms, sort_ms,
/// ms_over_sort, vnmse, opt_vnmse, then the device's columns (bench/device.h).
/// CPU: `ms` excludes sorting for the solvers that need sorted input (they get the sorted
/// vector); quiver-apx and the other unsorted solvers get the unsorted input. sort_ms is
/// std::sort of the same floats in the same run; then radix_sort_ms and vqsort_ms, the library's
/// two sorts (quantization/detail/radix_sort.h), and sort_used, the one that solve_levels uses on
/// unsorted input on this target.
/// CUDA: `ms` is Compressor::solve_levels on the unsorted device vector, all in; sort_ms is the
/// CUB sort inside it for the sorted-input solvers (for the others a CUB sort of the same vector,
/// timed apart); then radix_sort_ms (the CPU library's sort, for scale), scan_ms, histogram_ms,
/// transfer_ms, host_ms (the DP on the host), copy_gbps and scan_fraction.
/// vnmse is the analytic vNMSE of
/// stochastic rounding to the levels (nearest-rounding error for kmeans and rtn); opt_vnmse is
/// the exact optimum of the same kind (quiver or quiver-accel for unbiased solvers, kmeans for
/// biased ones) when one of those ran for the same (log2d, s), else "-".
/// Returns 0, or 1 when a self-check fails (the exact solvers disagree, or a solver beats the
/// optimum), after printing the table.
/// Throws dme::Error on a bad --reps, --log2d, --s or --m (shared with the CUDA solver bench).
void check_solver_bench_config(const SolverBenchConfig& config);

int run_solver_bench(const SolverBenchConfig& config, std::ostream& os);

}  // namespace dme
