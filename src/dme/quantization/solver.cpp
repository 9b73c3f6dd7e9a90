#include "dme/quantization/solver.h"

#include <sstream>
#include <string>

#include "dme/core/error.h"
#include "dme/quantization/alq.h"
#include "dme/quantization/amq.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/detail/radix_sort.h"
#include "dme/quantization/kmeans1d.h"
#include "dme/quantization/quiver.h"
#include "dme/quantization/uniform.h"
#include "dme/quantization/zipml.h"

namespace dme {
namespace {

struct SolverInfo {
  Solver solver;
  std::string_view name;
  bool biased;
  bool sorted;
};

constexpr SolverInfo kInfo[] = {
    {Solver::kQuiver, "quiver", false, true},
    {Solver::kQuiverAccel, "quiver-accel", false, true},
    {Solver::kQuiverApx, "quiver-apx", false, false},
    {Solver::kKmeans, "kmeans", true, true},
    {Solver::kZipml, "zipml", false, true},
    {Solver::kZipmlCpUnif, "zipml-cp-unif", false, false},
    {Solver::kZipmlCpQuant, "zipml-cp-quant", false, true},
    {Solver::kZipml2Apx, "zipml-2apx", false, true},
    {Solver::kAlq, "alq", false, false},
    {Solver::kAmq, "amq", false, false},
    {Solver::kUniform, "uniform", false, false},
    {Solver::kRtn, "rtn", true, false},
};

const SolverInfo& info(Solver s) {
  for (const SolverInfo& i : kInfo)
    if (i.solver == s) return i;
  DME_ASSERT(false);
  __builtin_unreachable();
}

std::vector<float> solve_sorted(std::span<const float> sorted, std::size_t s, Solver solver,
                                const SolverOptions& options) {
  switch (solver) {
    case Solver::kQuiver:
      return quiver_exact(sorted, s);
    case Solver::kQuiverAccel:
      return quiver_accelerated(sorted, s);
    case Solver::kKmeans:
      return kmeans_levels(sorted, s);
    case Solver::kZipml:
      return zipml_exact(sorted, s);
    case Solver::kZipmlCpQuant:
      return zipml_cp_quantile(sorted, s, options.m);
    case Solver::kZipml2Apx:
      return zipml_2apx(sorted, s);
    default:
      DME_ASSERT(false);
  }
  __builtin_unreachable();
}

}  // namespace

Solver parse_solver(std::string_view name) {
  for (const SolverInfo& i : kInfo)
    if (i.name == name) return i.solver;
  std::ostringstream valid;
  for (const SolverInfo& i : kInfo) valid << (&i == kInfo ? "" : ", ") << i.name;
  DME_THROW("unknown solver '" << name << "'; valid solvers: " << valid.str());
}

std::string_view solver_name(Solver s) {
  return info(s).name;
}
bool solver_is_biased(Solver s) {
  return info(s).biased;
}
bool solver_needs_sorted_input(Solver s) {
  return info(s).sorted;
}

std::vector<float> solve_levels(std::span<const float> x, std::size_t s, Solver solver,
                                const SolverOptions& options) {
  const std::string name(solver_name(solver));
  DME_CHECK(s >= 2, name << ": s must be at least 2, got " << s);
  DME_CHECK(s <= kMaxLevels, name << ": s = " << s << " exceeds " << kMaxLevels
                                  << ", the most levels 16-bit codes can index");
  switch (solver) {
    case Solver::kQuiverApx:
      return quiver_approx(x, s, options.m);
    case Solver::kZipmlCpUnif:
      return zipml_cp_uniform(x, s, options.m);
    case Solver::kAlq:
      return alq_levels(x, s);
    case Solver::kAmq:
      return amq_levels(x, s);
    default:
      break;
  }
  if (solver == Solver::kZipml)
    DME_CHECK(x.size() <= kMaxZipmlD,
              "zipml: the exact O(s·d²) DP accepts d <= " << kMaxZipmlD << ", got d = " << x.size()
                                                          << " (use quiver for large inputs)");
  const Extrema<float> range = detail::scan_input(x, name.c_str());
  if (solver == Solver::kUniform || solver == Solver::kRtn)
    return uniform_levels(range.min, range.max, s);
  if (range.min == range.max) return {range.min};
  if (options.input_is_sorted) {
    detail::check_sorted(x, name.c_str());
    return solve_sorted(x, s, solver, options);
  }
  std::vector<float> sorted(x.begin(), x.end());
  detail::sort_floats(sorted);
  return solve_sorted(sorted, s, solver, options);
}

}  // namespace dme
