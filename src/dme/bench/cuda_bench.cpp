#include "dme/bench/cuda_bench.h"

#include "dme/core/error.h"

#if defined(DME_HAVE_CUDA)

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>

#include "dme/codec/payload.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/cuda/cuda_backend.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/detail/radix_sort.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/rounding.h"
#include "dme/rotation/rht.h"

namespace dme {

namespace {

/// Median of reps device times of f (after one untimed warm-up run).
template <class F>
double device_median_ms(int reps, F&& f) {
  f();
  cuda::DeviceTimer timer;
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    timer.start();
    f();
    t.push_back(timer.stop());
  }
  return median(std::move(t));
}

/// GB/s of `passes` read-write sweeps over n floats in ms milliseconds.
double sweep_gbps(double passes, std::size_t n, double ms) {
  return passes * 8.0 * static_cast<double>(n) / (ms * 1e6);
}

void require_device(bool csv, std::ostream& os) {
  DME_CHECK(cuda::available(), "--backend cuda: " << cuda::device_summary());
  if (!csv) os << "# device: " << cuda::device_summary() << "\n";
}

}  // namespace

int run_cuda_rotation_bench(const RotationBenchConfig& config, std::ostream& os) {
  DME_CHECK(config.reps >= 1, "--reps must be at least 1, got " << config.reps);
  DME_CHECK(config.rotations >= 1 && config.rotations <= kMaxRotations,
            "--rotations must be in 1.." << kMaxRotations << ", got " << config.rotations);
  for (int l : config.log2d)
    DME_CHECK(l >= 0 && l <= 30, "--log2d values must be in 0..30, got " << l);
  require_device(config.csv, os);
  Table table({"log2d", "fwht_ms", "memcpy_ms", "fwht_over_memcpy", "rht_forward_ms",
               "rht_inverse_ms", "max_roundtrip_err", "copy_gbps", "fwht_passes", "fwht_gbps",
               "fwht_fraction", "rht_passes", "rht_forward_fraction", "rht_inverse_fraction"},
              config.csv);
  table.print_header(os);
  int status = 0;
  for (int l : config.log2d) {
    const std::size_t n = std::size_t(1) << l;
    std::vector<float> x(n);
    const PhiloxStream input(config.seed, 0, 0, Purpose::kInput);
    for (std::size_t i = 0; i < n; ++i) x[i] = input.uniform_float(i) * 2.0f - 1.0f;
    cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, y(n), back(n);
    cuda::copy(y.span(), x_dev.span());

    const double fwht_ms = device_median_ms(config.reps, [&] { cuda::fwht(y.span()); });
    const double copy_ms =
        device_median_ms(config.reps, [&] { cuda::copy(back.span(), y.span()); });
    const cuda::CudaRotation rot(config.seed, 0, config.rotations, n);
    const double fwd_ms =
        device_median_ms(config.reps, [&] { rot.forward(x_dev.span(), y.span()); });
    // Repeated inverses of an orthogonal map keep y bounded, so no copy is timed with them.
    const double inv_ms =
        device_median_ms(config.reps, [&] { rot.inverse(y.span(), back.span()); });
    rot.forward(x_dev.span(), y.span());
    rot.inverse(y.span(), back.span());
    const std::vector<float> out = back.to_host();

    double max_err = 0, max_abs = 0;
    for (std::size_t i = 0; i < n; ++i) {
      max_err = std::max(max_err, double(std::fabs(out[i] - x[i])));
      max_abs = std::max(max_abs, double(std::fabs(x[i])));
    }
    const double rel_err = max_abs > 0 ? max_err / max_abs : max_err;
    const double limit = 4 * 0x1p-24 * (2.0 * config.rotations * std::max(1, l) + 1);
    if (rel_err > limit) {
      std::cerr << "dme-bench rotation --backend cuda: round trip error " << rel_err << " at log2d "
                << l << " exceeds float precision (" << limit << ")\n";
      status = 1;
    }
    const double copy_gbps = sweep_gbps(1, n, copy_ms);
    const int passes = cuda::fwht_passes(n);
    const double fwht_gbps = sweep_gbps(passes, n, fwht_ms);
    table.print_row(
        os, {static_cast<long long>(l), fwht_ms, copy_ms, fwht_ms / copy_ms, fwd_ms, inv_ms,
             rel_err, copy_gbps, static_cast<long long>(passes), fwht_gbps, fwht_gbps / copy_gbps,
             static_cast<long long>(rot.passes()), sweep_gbps(rot.passes(), n, fwd_ms) / copy_gbps,
             sweep_gbps(rot.passes(), n, inv_ms) / copy_gbps});
  }
  return status;
}

namespace {

struct PipelineSample {
  double rotate_ms, solve_ms, round_pack_ms, total_ms;
};

/// Solver bytes read on the device per input value: the min/max scan, plus the histogram for
/// quiver-apx; other solvers also copy or sort (their fraction is not a streaming figure).
double solver_sweeps(Solver solver) {
  if (solver == Solver::kQuiverApx) return 2;
  if (solver == Solver::kUniform || solver == Solver::kRtn) return 1;
  return NAN;
}

}  // namespace

int run_cuda_pipeline_bench(const PipelineBenchConfig& cfg, std::ostream& os) {
  validate(cfg.options);
  DME_CHECK(cfg.options.rotations != kAutoRotations, "--rotations must be a number for pipeline");
  DME_CHECK(cfg.reps >= 1, "--reps must be at least 1, got " << cfg.reps);
  const Options& o = cfg.options;
  require_device(cfg.csv, os);
  Table table({"log2d", "rotations", "solver", "s", "rotate_ms", "solve_ms", "round_pack_ms",
               "total_ms", "memcpy_ms", "gb_per_s", "bits_per_coord", "roundtrip_vnmse",
               "copy_gbps", "rotate_fraction", "solve_fraction", "round_pack_fraction"},
              cfg.csv);
  table.print_header(os);
  int status = 0;
  cuda::Compressor comp;
  for (int l : cfg.log2d) {
    DME_CHECK(l >= 1 && l <= 30, "--log2d values must be in 1..30, got " << l);
    const std::size_t d = std::size_t(1) << l;
    std::vector<float> x(d);
    const PhiloxStream input(o.seed, 0, 0, Purpose::kInput);
    for (std::size_t i = 0; i < d; ++i) x[i] = std::exp(2.0f * input.uniform_float(i) - 1.0f);
    cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, copy_dev(d);
    cuda::CudaRotation rot(o.seed, 0, o.rotations, d);
    cuda::DeviceBuffer<float> y(rot.padded());
    const CompressionPlan plan = compression_plan(o);
    std::vector<PipelineSample> samples;
    std::vector<std::byte> payload;
    PayloadHeader h;
    for (int r = 0; r < cfg.reps + 1; ++r) {  // run 0 is the warm-up
      h.d = d;
      h.padded = h.count = rot.padded();
      h.bucket_size = o.bucket_size;
      h.s = static_cast<std::uint32_t>(o.s);
      h.rotations = static_cast<std::uint8_t>(o.rotations);
      h.biased = plan.nearest;
      h.seed = o.seed;
      h.round = static_cast<std::uint32_t>(r);
      Timer total;
      rot.rekey(o.seed, h.round);
      rot.forward(x_dev.span(), y.span());
      const double rotate_ms = total.elapsed_ms();
      PhaseTimes t;
      comp.compress(y.span(), h, plan, PhiloxStream(o.seed, h.round, 0, Purpose::kRounding),
                    payload, &t);
      if (r > 0) samples.push_back({rotate_ms, t.solve_ms, t.round_pack_ms, total.elapsed_ms()});
    }
    const double copy_ms =
        device_median_ms(cfg.reps, [&] { cuda::copy(copy_dev.span(), x_dev.span()); });

    // Self-check on the last round: decode on the device, rotate back, compare with the
    // analytic variance of stochastic rounding to the levels that were sent.
    const std::vector<float> y_host = y.to_host();
    cuda::DeviceBuffer<float> acc{std::span<const float>(std::vector<float>(rot.padded(), 0.0f))};
    comp.decode_accumulate(payload, {}, acc.span());
    cuda::DeviceBuffer<float> out_dev(d);
    rot.inverse(acc.span(), out_dev.span());
    const std::vector<float> out = out_dev.to_host();
    const double err = vnmse(x, out);
    if (!plan.nearest && o.bucket_size == 0) {
      const double bound = analytic_vnmse(y_host, decode(payload).levels.values);
      if (err > 4 * bound + 1e-12) {
        std::cerr << "dme-bench pipeline --backend cuda: round trip vNMSE " << err
                  << " exceeds 4x the analytic " << bound << " at log2d " << l << "\n";
        status = 1;
      }
    }
    const auto pick = [&](double PipelineSample::*field) {
      std::vector<double> v;
      for (const PipelineSample& s : samples) v.push_back(s.*field);
      return median(std::move(v));
    };
    const double total_ms = pick(&PipelineSample::total_ms),
                 rotate_ms = pick(&PipelineSample::rotate_ms);
    const double solve_ms = pick(&PipelineSample::solve_ms),
                 rp_ms = pick(&PipelineSample::round_pack_ms);
    const double copy_gbps = sweep_gbps(1, d, copy_ms);
    const double padded = static_cast<double>(rot.padded());
    // Rounding reads 4 bytes per value and writes the packed codes.
    const double rp_gbps = (4.0 * padded + static_cast<double>(payload.size())) / (rp_ms * 1e6);
    table.print_row(os, {static_cast<long long>(l), static_cast<long long>(o.rotations),
                         std::string(solver_name(o.solver)), static_cast<long long>(o.s), rotate_ms,
                         solve_ms, rp_ms, total_ms, copy_ms, 4.0 * double(d) / (total_ms * 1e6),
                         8.0 * double(payload.size()) / double(d), err, copy_gbps,
                         sweep_gbps(rot.passes(), rot.padded(), rotate_ms) / copy_gbps,
                         solver_sweeps(o.solver) * 4.0 * padded / (solve_ms * 1e6) / copy_gbps,
                         rp_gbps / copy_gbps});
  }
  return status;
}

namespace {

bool uses_grid(Solver s) {
  return s == Solver::kQuiverApx || s == Solver::kZipmlCpUnif || s == Solver::kZipmlCpQuant;
}

struct SolverCell {
  Solver solver = Solver::kQuiver;
  std::size_t m = 0;
  double ms = NAN, vnmse = NAN;
  cuda::SolveTimes times;
  std::string error;
};

SolverCell run_solver_cell(const SolverBenchConfig& c, cuda::Compressor& comp,
                           std::span<const float> x_host, std::span<const float> x_dev,
                           Solver solver, std::size_t s, std::size_t m) {
  SolverCell cell;
  cell.solver = solver;
  cell.m = m;
  SolverOptions options;
  options.m = m;
  try {
    std::vector<float> levels = comp.solve_levels(x_dev, s, solver, options);  // warm-up
    std::vector<std::pair<double, cuda::SolveTimes>> runs;
    double spent_ms = 0;
    while (runs.empty() ||
           (static_cast<int>(runs.size()) < c.reps && spent_ms < c.budget_s * 1e3)) {
      cuda::SolveTimes t;
      Timer timer;
      levels = comp.solve_levels(x_dev, s, solver, options, &t);
      runs.emplace_back(timer.elapsed_ms(), t);
      spent_ms += runs.back().first;
    }
    std::sort(runs.begin(), runs.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    cell.ms = runs[runs.size() / 2].first;
    cell.times = runs[runs.size() / 2].second;
    cell.vnmse = level_set_vnmse(x_host, levels, solver_is_biased(solver));
  } catch (const Error& e) {
    cell.error = e.message();
  }
  return cell;
}

}  // namespace

int run_cuda_solver_bench(const SolverBenchConfig& c, std::ostream& os) {
  check_solver_bench_config(c);
  const Distribution dist = parse_distribution(c.dist);
  DME_CHECK(
      dist != Distribution::kFile && dist != Distribution::kOneHot && dist != Distribution::kTwoHot,
      "--dist must be lognormal, normal, exponential, truncnorm or weibull, got " << c.dist);
  std::vector<Solver> solvers;
  for (const std::string& name : c.solvers) solvers.push_back(parse_solver(name));
  require_device(c.csv, os);
  Table table({"solver", "dist", "log2d", "s", "m", "ms", "sort_ms", "ms_over_sort", "vnmse",
               "opt_vnmse", "radix_sort_ms", "scan_ms", "histogram_ms", "transfer_ms", "host_ms",
               "copy_gbps", "scan_fraction"},
              c.csv);
  table.print_header(os);
  int status = 0;
  cuda::Compressor comp;
  for (int l : c.log2d) {
    const std::size_t n = std::size_t(1) << l;
    std::vector<float> x(n);
    generate(dist, DistributionParams{}, c.seed, 0, 0, x);
    cuda::DeviceBuffer<float> x_dev{std::span<const float>(x)}, sorted(n), copy_dev(n);
    const double sort_ms =
        device_median_ms(c.reps, [&] { comp.sort(x_dev.span(), sorted.span()); });
    const double copy_ms =
        device_median_ms(c.reps, [&] { cuda::copy(copy_dev.span(), x_dev.span()); });
    std::vector<double> radix_t;
    for (int r = 0; r < c.reps; ++r) {
      std::vector<float> work = x;
      Timer t;
      detail::radix_sort(work);
      radix_t.push_back(t.elapsed_ms());
    }
    const double radix_ms = median(std::move(radix_t));
    const double copy_gbps = sweep_gbps(1, n, copy_ms);
    for (int s : c.s) {
      std::vector<SolverCell> cells;
      for (Solver solver : solvers) {
        const std::vector<int> grid = uses_grid(solver) ? c.m : std::vector<int>{0};
        for (int m : grid)
          cells.push_back(run_solver_cell(c, comp, x, x_dev.span(), solver,
                                          static_cast<std::size_t>(s),
                                          static_cast<std::size_t>(m)));
      }
      std::optional<double> opt_unbiased, opt_biased;
      for (const SolverCell& cell : cells) {
        if (!cell.error.empty()) continue;
        if (cell.solver == Solver::kQuiver || cell.solver == Solver::kQuiverAccel)
          opt_unbiased = opt_unbiased ? std::min(*opt_unbiased, cell.vnmse) : cell.vnmse;
        if (cell.solver == Solver::kKmeans) opt_biased = cell.vnmse;
      }
      for (const SolverCell& cell : cells) {
        const std::optional<double>& opt =
            solver_is_biased(cell.solver) ? opt_biased : opt_unbiased;
        if (cell.error.empty() && opt && cell.vnmse < *opt * (1 - 1e-9)) {
          std::cerr << "dme-bench solvers --backend cuda: " << solver_name(cell.solver)
                    << " beats the exact optimum at log2d " << l << ", s " << s << "\n";
          status = 1;
        }
        if (!cell.error.empty())
          std::cerr << "dme-bench solvers --backend cuda: " << solver_name(cell.solver)
                    << " at log2d " << l << ", s " << s << ": " << cell.error << "\n";
        const Table::Cell m_cell = uses_grid(cell.solver)
                                       ? Table::Cell(static_cast<long long>(cell.m))
                                       : Table::Cell(std::string("-"));
        const Table::Cell opt_cell = opt ? Table::Cell(*opt) : Table::Cell(std::string("-"));
        const cuda::SolveTimes& t = cell.times;
        // The solver's own sort when it has one, else the separately timed sort of the input.
        const double sort_cell = t.sort_ms > 0 ? t.sort_ms : sort_ms;
        table.print_row(os, {std::string(solver_name(cell.solver)), c.dist,
                             static_cast<long long>(l), static_cast<long long>(s), m_cell, cell.ms,
                             sort_cell, cell.ms / sort_cell, cell.vnmse, opt_cell, radix_ms,
                             t.scan_ms, t.histogram_ms, t.transfer_ms, t.host_ms, copy_gbps,
                             t.scan_ms > 0 ? sweep_gbps(0.5, n, t.scan_ms) / copy_gbps : NAN});
      }
    }
  }
  return status;
}

}  // namespace dme

#else  // a build without the CUDA backend

namespace dme {

namespace {

[[noreturn]] void no_cuda(const char* bench) {
  DME_THROW("dme-bench " << bench
                         << " --backend cuda: this build of dme has no CUDA backend "
                            "(configure with -DDME_ENABLE_CUDA=ON on a machine with nvcc)");
}

}  // namespace

int run_cuda_rotation_bench(const RotationBenchConfig&, std::ostream&) {
  no_cuda("rotation");
}
int run_cuda_pipeline_bench(const PipelineBenchConfig&, std::ostream&) {
  no_cuda("pipeline");
}
int run_cuda_solver_bench(const SolverBenchConfig&, std::ostream&) {
  no_cuda("solvers");
}

}  // namespace dme

#endif
