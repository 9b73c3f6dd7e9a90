// Level solvers, selected by name: given a vector x and a number of levels s, the level set to
// round x to (docs/algorithms.md §3-§6 has every formula; §6.8 sums them up).
//   quiver          exact ASQ, layered DP with SMAWK, O(s·d) after sorting
//   quiver-accel    exact ASQ, two levels per SMAWK pass (closed-form middle level)
//   quiver-apx      approximate ASQ on an (m+1)-point grid from one pass over unsorted input
//   kmeans          optimal biased quantizer (exact 1-D k-means), for nearest rounding
//   zipml           exact ASQ by the O(s·d²) DP (d <= kMaxZipmlD)
//   zipml-cp-unif   exact DP over the m+1 uniform grid points
//   zipml-cp-quant  exact DP over the m+1 input quantiles
//   zipml-2apx      threshold-greedy bicriteria approximation
//   alq, amq        sign-magnitude baselines with adaptive / exponential levels
//   uniform, rtn    s evenly spaced levels (unbiased / nearest rounding)
// Exact solvers sort their input (radix sort) unless told it is sorted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dme/quantization/levels.h"
#include "dme/quantization/quiver_approx.h"

namespace dme {

enum class Solver {
  kQuiver,
  kQuiverAccel,
  kQuiverApx,
  kKmeans,
  kZipml,
  kZipmlCpUnif,
  kZipmlCpQuant,
  kZipml2Apx,
  kAlq,
  kAmq,
  kUniform,
  kRtn
};

/// Every solver, in enum order.
inline constexpr Solver kAllSolvers[] = {
    Solver::kQuiver, Solver::kQuiverAccel, Solver::kQuiverApx,    Solver::kKmeans,
    Solver::kZipml,  Solver::kZipmlCpUnif, Solver::kZipmlCpQuant, Solver::kZipml2Apx,
    Solver::kAlq,    Solver::kAmq,         Solver::kUniform,      Solver::kRtn};

/// The solver of a name ("quiver", "quiver-accel", ...); an unknown name -> dme::Error listing
/// the valid ones.
Solver parse_solver(std::string_view name);
std::string_view solver_name(Solver s);
/// True for the solvers meant for nearest rounding (kKmeans, kRtn).
bool solver_is_biased(Solver s);
/// True for the solvers that work on sorted input (and sort it unless told it is sorted).
bool solver_needs_sorted_input(Solver s);

struct SolverOptions {
  std::size_t m =
      kDefaultApxGrid;           ///< quiver-apx grid intervals (m + 1 points); zipml-cp candidates
  bool input_is_sorted = false;  ///< caller guarantees x is sorted ascending (skips the sort)
};

/// Levels for x: sorted, STRICTLY increasing, size between 1 and s, levels.front() <= min(x) and
/// levels.back() >= max(x) for the unbiased solvers (so stochastic rounding is defined); fewer
/// than s levels only when x has fewer distinct values than s (a constant vector gives one level).
/// Throws dme::Error on empty x, NaN/Inf (naming index and value), s < 2, s > kMaxLevels, m < s for
/// quiver-apx and zipml-cp-*, d too large for zipml, or unsorted x with input_is_sorted.
/// @param x  the input, size d
std::vector<float> solve_levels(std::span<const float> x, std::size_t s, Solver solver,
                                const SolverOptions& options = {});

}  // namespace dme
