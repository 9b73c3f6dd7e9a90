#include "dme/bench/solver_bench.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <optional>

#include "dme/core/error.h"
#include "dme/core/timer.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/table.h"
#include "dme/quantization/detail/radix_sort.h"

#include "dme/quantization/metrics.h"
#include "dme/quantization/rounding.h"
#include "dme/quantization/solver.h"

namespace dme {
namespace {

// Median of timed runs of f: at least one, at most reps, and no new run once budget_s is spent.
template <class F>
double median_ms(int reps, double budget_s, F&& f) {
  std::vector<double> t;
  double total_ms = 0;
  while (t.empty() || (static_cast<int>(t.size()) < reps && total_ms < budget_s * 1e3)) {
    Timer timer;
    f();
    t.push_back(timer.elapsed_ms());
    total_ms += t.back();
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

struct Cell {
  Solver solver = Solver::kQuiver;
  std::size_t m = 0;
  bool uses_m = false;
  double ms = NAN, vnmse = NAN;
  std::string error;
};

bool uses_grid(Solver s) {
  return s == Solver::kQuiverApx || s == Solver::kZipmlCpUnif || s == Solver::kZipmlCpQuant;
}

struct Input {
  std::vector<float> x, sorted;
  double sort_ms = 0, radix_ms = 0, vqsort_ms = 0;
};

Input make_bench_input(const SolverBenchConfig& c, Distribution dist, int log2d) {
  Input in;
  in.x.resize(std::size_t(1) << log2d);
  generate(dist, DistributionParams{}, c.seed, 0, 0, in.x);
  // Both sorts work on fresh copies; the copies are not timed.
  std::vector<float> work;
  std::vector<double> sort_t, radix_t, vq_t;
  for (int r = 0; r < std::max(1, c.reps); ++r) {
    work = in.x;
    Timer t;
    std::sort(work.begin(), work.end());
    sort_t.push_back(t.elapsed_ms());
    work = in.x;
    t.reset();
    detail::radix_sort(work);
    radix_t.push_back(t.elapsed_ms());
    work = in.x;
    t.reset();
    detail::vqsort_floats(work);  // Highway's vqsort on the current target, radix order
    vq_t.push_back(t.elapsed_ms());
  }
  std::sort(vq_t.begin(), vq_t.end());
  in.vqsort_ms = vq_t[vq_t.size() / 2];
  work = in.x;
  detail::radix_sort(work);
  std::sort(sort_t.begin(), sort_t.end());
  std::sort(radix_t.begin(), radix_t.end());
  in.sort_ms = sort_t[sort_t.size() / 2];
  in.radix_ms = radix_t[radix_t.size() / 2];
  in.sorted = std::move(work);  // radix sorted: the same floats in the same order as std::sort
  return in;
}

Cell run_cell(const SolverBenchConfig& c, const Input& in, Solver solver, std::size_t s,
              std::size_t m) {
  Cell cell;
  cell.solver = solver;
  cell.m = m;
  cell.uses_m = uses_grid(solver);
  SolverOptions options;
  options.m = m;
  options.input_is_sorted = solver_needs_sorted_input(solver);
  const std::span<const float> input = options.input_is_sorted ? in.sorted : in.x;
  std::vector<float> levels;
  try {
    cell.ms =
        median_ms(c.reps, c.budget_s, [&] { levels = solve_levels(input, s, solver, options); });
    cell.vnmse = level_set_vnmse(in.x, levels, solver_is_biased(solver));
  } catch (const Error& e) {
    cell.error = e.message();
  }
  return cell;
}


// The exact optimum of each kind among the cells (quiver/quiver-accel for unbiased, kmeans for
// biased); flags quiver and quiver-accel disagreeing.
struct Optima {
  std::optional<double> unbiased, biased;
};

Optima optima(const std::vector<Cell>& cells, int l, int s, int& status) {
  Optima o;
  for (const Cell& cell : cells) {
    if (!cell.error.empty()) continue;
    if (cell.solver == Solver::kQuiver || cell.solver == Solver::kQuiverAccel) {
      if (o.unbiased && std::fabs(*o.unbiased - cell.vnmse) > 1e-9 * *o.unbiased) {
        std::cerr << "dme-bench solvers: quiver and quiver-accel disagree at log2d " << l << ", s "
                  << s << ": " << *o.unbiased << " vs " << cell.vnmse << "\n";
        status = 1;
      }
      o.unbiased = o.unbiased ? std::min(*o.unbiased, cell.vnmse) : cell.vnmse;
    }
    if (cell.solver == Solver::kKmeans) o.biased = cell.vnmse;
  }
  return o;
}

void print_cells(const Table& table, std::ostream& os, const std::vector<Cell>& cells,
                 const std::string& dist, const Input& in, int l, int s, const Optima& o,
                 int& status) {
  for (const Cell& cell : cells) {
    const std::optional<double>& opt = solver_is_biased(cell.solver) ? o.biased : o.unbiased;
    if (cell.error.empty() && opt && cell.vnmse < *opt * (1 - 1e-9)) {
      std::cerr << "dme-bench solvers: " << solver_name(cell.solver)
                << " beats the exact optimum at log2d " << l << ", s " << s << ": " << cell.vnmse
                << " < " << *opt << "\n";
      status = 1;
    }
    if (!cell.error.empty())
      std::cerr << "dme-bench solvers: " << solver_name(cell.solver) << " at log2d " << l << ", s "
                << s << ": " << cell.error << "\n";
    const Table::Cell m_cell =
        cell.uses_m ? Table::Cell(static_cast<long long>(cell.m)) : Table::Cell(std::string("-"));
    const Table::Cell opt_cell = opt ? Table::Cell(*opt) : Table::Cell(std::string("-"));
    table.print_row(os, {std::string(solver_name(cell.solver)), dist, static_cast<long long>(l),
                         static_cast<long long>(s), m_cell, cell.ms, in.sort_ms,
                         cell.ms / in.sort_ms, cell.vnmse, opt_cell, in.radix_ms, in.vqsort_ms,
                         std::string(detail::sort_method())});
  }
}

}  // namespace

void check_solver_bench_config(const SolverBenchConfig& c) {
  DME_CHECK(c.reps >= 1, "--reps must be at least 1, got " << c.reps);
  for (int l : c.log2d) DME_CHECK(l >= 1 && l <= 28, "--log2d values must be in 1..28, got " << l);
  for (int s : c.s)
    DME_CHECK(s >= 2 && s <= static_cast<int>(kMaxLevels),
              "--s values must be in 2.." << kMaxLevels << ", got " << s);
  for (int m : c.m) DME_CHECK(m >= 1, "--m values must be positive, got " << m);
}

int run_solver_bench(const SolverBenchConfig& c, std::ostream& os) {
  check_solver_bench_config(c);
  const Distribution dist = parse_distribution(c.dist);
  DME_CHECK(
      dist != Distribution::kFile && dist != Distribution::kOneHot && dist != Distribution::kTwoHot,
      "--dist must be lognormal, normal, exponential, truncnorm or weibull, got " << c.dist);
  std::vector<Solver> solvers;
  for (const std::string& name : c.solvers) solvers.push_back(parse_solver(name));
  const Table table({"solver", "dist", "log2d", "s", "m", "ms", "sort_ms", "ms_over_sort", "vnmse",
                     "opt_vnmse", "radix_sort_ms", "vqsort_ms", "sort_used"},
                    c.csv);
  table.print_header(os);
  int status = 0;
  for (int l : c.log2d) {
    const Input in = make_bench_input(c, dist, l);
    for (int s : c.s) {
      const std::size_t levels = static_cast<std::size_t>(s);
      std::vector<Cell> cells;
      for (Solver solver : solvers) {
        if (!uses_grid(solver)) {
          cells.push_back(run_cell(c, in, solver, levels, 0));
          continue;
        }
        for (int m : c.m)
          cells.push_back(run_cell(c, in, solver, levels, static_cast<std::size_t>(m)));
      }
      print_cells(table, os, cells, c.dist, in, l, s, optima(cells, l, s, status), status);
    }
  }
  return status;
}

}  // namespace dme
