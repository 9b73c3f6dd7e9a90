#include "dme/bench/solver_bench.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <optional>

#include "dme/bench/device.h"
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

struct Cell {
  Solver solver = Solver::kQuiver;
  std::size_t m = 0;
  bool uses_m = false;
  double vnmse = NAN;
  SolveRun run;  ///< the median run (its time, levels and the device's parts)
  std::string error;
};

bool uses_grid(Solver s) {
  return s == Solver::kQuiverApx || s == Solver::kZipmlCpUnif || s == Solver::kZipmlCpQuant;
}

// The median of the timed solves: at least one, at most reps, and no new run once budget_s is
// spent (after one untimed solve where the device wants one).
Cell run_cell(const SolverBenchConfig& c, SolverDevice& device, std::span<const float> x,
              Solver solver, std::size_t s, std::size_t m) {
  Cell cell;
  cell.solver = solver;
  cell.m = m;
  cell.uses_m = uses_grid(solver);
  try {
    if (device.warm_up()) device.solve(s, solver, m);
    std::vector<SolveRun> runs;
    double spent_ms = 0;
    while (runs.empty() ||
           (static_cast<int>(runs.size()) < c.reps && spent_ms < c.budget_s * 1e3)) {
      runs.push_back(device.solve(s, solver, m));
      spent_ms += runs.back().ms;
    }
    std::sort(runs.begin(), runs.end(),
              [](const SolveRun& a, const SolveRun& b) { return a.ms < b.ms; });
    cell.run = std::move(runs[runs.size() / 2]);
    cell.vnmse = level_set_vnmse(x, cell.run.levels, solver_is_biased(solver));
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
                 const SolverDevice& device, const std::string& dist, int l, int s, const Optima& o,
                 int& status) {
  for (const Cell& cell : cells) {
    const std::optional<double>& opt = solver_is_biased(cell.solver) ? o.biased : o.unbiased;
    if (cell.error.empty() && opt && cell.vnmse < *opt * (1 - 1e-9)) {
      std::cerr << "dme-bench solvers: " << solver_name(cell.solver)
                << " beats the exact optimum at log2d " << l << ", s " << s << ": " << cell.vnmse
                << " < " << *opt << "\n";
      status = 1;
    }
    // A cell that could not run (m < s, say) is an error of the run; its row has no figures.
    const bool failed = !cell.error.empty();
    if (failed) {
      std::cerr << "dme-bench solvers: " << solver_name(cell.solver) << " at log2d " << l << ", s "
                << s << ": " << cell.error << "\n";
      status = 1;
    }
    const auto figure = [&](double v) { return failed ? Table::Cell(std::string("-")) : v; };
    const Table::Cell m_cell =
        cell.uses_m ? Table::Cell(static_cast<long long>(cell.m)) : Table::Cell(std::string("-"));
    const Table::Cell opt_cell = opt ? Table::Cell(*opt) : Table::Cell(std::string("-"));
    const double sort_ms = device.sort_ms(cell.run);
    std::vector<Table::Cell> row = {std::string(solver_name(cell.solver)),
                                    dist,
                                    static_cast<long long>(l),
                                    static_cast<long long>(s),
                                    m_cell,
                                    figure(cell.run.ms),
                                    sort_ms,
                                    figure(cell.run.ms / sort_ms),
                                    figure(cell.vnmse),
                                    opt_cell};
    for (auto& c : device.extra_cells(cell.run)) row.push_back(c);
    table.print_row(os, row);
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
  DME_CHECK(std::isfinite(c.budget_s) && c.budget_s >= 0,
            "--budget must be a number of seconds >= 0, got " << c.budget_s);
}

int run_solver_bench(const SolverBenchConfig& c, std::ostream& os) {
  check_solver_bench_config(c);
  const Distribution dist = parse_distribution(c.dist);
  DME_CHECK(
      dist != Distribution::kFile && dist != Distribution::kOneHot && dist != Distribution::kTwoHot,
      "--dist must be lognormal, normal, exponential, truncnorm or weibull, got " << c.dist);
  std::vector<Solver> solvers;
  for (const std::string& name : c.solvers) solvers.push_back(parse_solver(name));
  const std::unique_ptr<SolverDevice> device = make_solver_device(c.backend);
  std::vector<std::string> columns = {"solver", "dist",    "log2d",        "s",     "m",
                                      "ms",     "sort_ms", "ms_over_sort", "vnmse", "opt_vnmse"};
  for (auto& col : device->extra_columns()) columns.push_back(col);
  const Table table(columns, c.csv);
  if (!c.csv && !device->banner().empty()) os << device->banner() << "\n";
  table.print_header(os);
  int status = 0;
  for (int l : c.log2d) {
    std::vector<float> x(std::size_t(1) << l);
    generate(dist, DistributionParams{}, c.seed, 0, 0, x);
    device->load(x, c.reps);
    for (int s : c.s) {
      const std::size_t levels = static_cast<std::size_t>(s);
      std::vector<Cell> cells;
      for (Solver solver : solvers) {
        if (!uses_grid(solver)) {
          cells.push_back(run_cell(c, *device, x, solver, levels, 0));
          continue;
        }
        for (int m : c.m)
          cells.push_back(run_cell(c, *device, x, solver, levels, static_cast<std::size_t>(m)));
      }
      print_cells(table, os, cells, *device, c.dist, l, s, optima(cells, l, s, status), status);
    }
  }
  return status;
}

}  // namespace dme
