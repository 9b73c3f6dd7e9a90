#include "dme/experiment/single_experiment.h"

#include <cmath>
#include <map>
#include <numeric>
#include <sstream>
#include <string>

#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/rng.h"
#include "dme/core/timer.h"
#include "dme/experiment/inputs.h"
#include "dme/experiment/table.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/rounding.h"
#include "dme/quantization/solver_progress.h"
#include "dme/rotation/rht.h"

namespace dme {
namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

void validate_config(const SingleExperimentConfig& cfg) {
  DME_CHECK(!cfg.sigmas.empty(), "--sigmas must give at least one value");
  for (double s : cfg.sigmas)
    DME_CHECK(std::isfinite(s) && s >= 0, "--sigmas values must be finite and >= 0, got " << s);
  DME_CHECK(std::isfinite(cfg.mu), "--mu must be finite, got " << cfg.mu);
  DME_CHECK(!cfg.quantizers.empty(), "--quantizers must name at least one quantizer");
  DME_CHECK(cfg.d >= 1, "--d must be at least 1, got " << cfg.d);
  DME_CHECK(cfg.s >= 2 && cfg.s <= kMaxLevels,
            "--s must be in 2.." << kMaxLevels << ", got " << cfg.s);
  DME_CHECK(cfg.rotations >= 0 && cfg.rotations <= kMaxRotations,
            "--rotations must be in 0.." << kMaxRotations << ", got " << cfg.rotations);
  DME_CHECK(cfg.trials >= 1, "--trials must be at least 1, got " << cfg.trials);
}

struct Measured {
  double vnmse, expected, solve_ms;
};

// Quantizes y once; stochastic rounding draws from (seed, round, rank 0).
Measured quantize_once(std::span<const float> y, Solver q, const SingleExperimentConfig& cfg,
                       std::uint32_t round) {
  Timer timer;
  const auto levels = solve_levels(y, cfg.s, q, cfg.solver_options);
  const double ms = timer.elapsed_ms();
  std::vector<std::uint16_t> codes(y.size());
  std::vector<float> yhat(y.size());
  if (solver_is_biased(q))
    nearest_round(y, levels, codes);
  else
    stochastic_round(y, levels, PhiloxStream(cfg.seed, round, 0, Purpose::kRounding), 0, codes);
  dequantize(codes, levels, yhat);
  const double v = vnmse(y, yhat);
  return {v, solver_is_biased(q) ? v : analytic_vnmse(y, levels), ms};
}

// The vector of (sigma index i, trial t), rotated when asked: the same normal draws for every
// sigma (stream 0, trial t), so the curves over sigma are paired rather than independently noisy.
std::vector<float> make_vector(const SingleExperimentConfig& cfg, std::size_t i, std::uint32_t t) {
  DistributionParams p;
  p.mu = cfg.mu;
  p.sigma = cfg.sigmas[i];
  std::vector<float> x(cfg.d);
  generate(Distribution::kLogNormal, p, cfg.seed, t, 0, x);
  if (cfg.rotations == 0) return x;
  // vNMSE is measured in the rotated domain: the rotation is orthogonal, so ‖y‖ = ‖x‖.
  Rotation rot(cfg.seed, t, cfg.rotations, cfg.d);
  std::vector<float> y(rot.padded());
  rot.forward(x, y);
  return y;
}

std::string run_name(Solver q) {
  return "single_" + std::string(solver_name(q));
}

Run make_run(const SingleExperimentConfig& cfg, const std::vector<SinglePoint>& pts, Solver q) {
  Run run;
  run.name = run_name(q);
  run.parameters["experiment"] = std::string("single");
  run.parameters["quantizer"] = std::string(solver_name(q));
  run.parameters["biased"] = std::int64_t(solver_is_biased(q));
  run.parameters["distribution"] = std::string("lognormal");
  run.parameters["mu"] = cfg.mu;
  run.parameters["d"] = std::int64_t(cfg.d);
  run.parameters["s"] = std::int64_t(cfg.s);
  run.parameters["rotations"] = std::int64_t(cfg.rotations);
  run.parameters["trials"] = std::int64_t(cfg.trials);
  run.parameters["m"] = std::int64_t(cfg.solver_options.m);
  std::vector<double> sigma, v, e, ms, vmean, vstd;
  for (const auto& p : pts) {
    if (p.quantizer != q) continue;
    sigma.push_back(p.sigma);
    v.insert(v.end(), p.vnmse.begin(), p.vnmse.end());
    e.insert(e.end(), p.expected_vnmse.begin(), p.expected_vnmse.end());
    ms.insert(ms.end(), p.solve_ms.begin(), p.solve_ms.end());
    vmean.push_back(p.vnmse_mean());
    vstd.push_back(p.vnmse_std());
  }
  const std::size_t k = sigma.size(), t = std::size_t(cfg.trials);
  const std::map<std::string, AttrValue> axes = {{"axis0", std::string("sigma")},
                                                 {"axis1", std::string("trial")}};
  run.datasets.push_back({"sigma", sigma, {k}, "1", {}});
  run.datasets.push_back({"vnmse", v, {k, t}, "1", axes});
  run.datasets.push_back({"expected_vnmse", e, {k, t}, "1", axes});
  run.datasets.push_back({"solve_ms", ms, {k, t}, "ms", axes});
  run.datasets.push_back({"vnmse_mean", vmean, {k}, "1", {}});
  run.datasets.push_back({"vnmse_std", vstd, {k}, "1", {}});
  return run;
}

// The paper's orderings: adaptive beats non-adaptive, and for one vector the optimal biased
// quantizer beats the optimal unbiased one. Checked only for the quantizers that were run.
void print_summary(const SingleExperimentConfig& cfg, const std::vector<SinglePoint>& pts,
                   std::ostream& os) {
  const std::pair<Solver, Solver> claims[] = {{Solver::kKmeans, Solver::kQuiver},
                                              {Solver::kQuiver, Solver::kUniform},
                                              {Solver::kKmeans, Solver::kRtn}};
  for (auto [better, worse] : claims) {
    std::vector<std::string> fails;
    bool seen = false;
    for (double sigma : cfg.sigmas) {
      const SinglePoint *a = nullptr, *b = nullptr;
      for (const auto& p : pts) {
        if (p.sigma != sigma) continue;
        if (p.quantizer == better) a = &p;
        if (p.quantizer == worse) b = &p;
      }
      if (!a || !b) continue;
      seen = true;
      if (!(a->vnmse_mean() < b->vnmse_mean())) {
        std::ostringstream s;
        s << sigma;
        fails.push_back(s.str());
      }
    }
    if (!seen) continue;
    os << "# " << solver_name(better) << " < " << solver_name(worse) << ": ";
    if (fails.empty()) {
      os << "at every sigma\n";
    } else {
      os << "NOT at sigma";
      for (const auto& f : fails) os << " " << f;
      os << "\n";
    }
  }
}

}  // namespace

double SinglePoint::vnmse_mean() const {
  return mean_of(vnmse);
}

double SinglePoint::vnmse_std() const {
  if (vnmse.size() < 2) return 0.0;
  const double m = vnmse_mean();
  double ss = 0;
  for (double x : vnmse) ss += (x - m) * (x - m);
  return std::sqrt(ss / double(vnmse.size() - 1));
}

std::vector<SinglePoint> run_single_sweep(const SingleExperimentConfig& cfg, MPI_Comm comm) {
  mpi::alike_everywhere([&] { validate_config(cfg); });
  std::vector<std::string> names;
  for (Solver q : cfg.quantizers) names.push_back(run_name(q));
  check_output(cfg.output, comm, names);
  const int rank = mpi::comm_rank(comm), size = mpi::comm_size(comm);
  const std::size_t ns = cfg.sigmas.size(), nq = cfg.quantizers.size(),
                    nt = std::size_t(cfg.trials);
  const std::size_t tasks = ns * nt;
  // [metric][(sigma * nq + quantizer) * nt + trial]; each task's owner fills its slots and the
  // sum over ranks assembles the table on every rank.
  std::vector<double> buf(3 * ns * nq * nt, 0.0);
  const std::size_t stride = ns * nq * nt;
  Progress progress("single", (tasks + size - 1 - rank) / size, !cfg.output.quiet && rank == 0);
  const ScopedSolverProgress solver_progress(
      [&](std::size_t done, std::size_t total) { progress.solver_layer(done, total); });
  // Each rank works through its tasks alone; a failure on one (an allocation too large, a
  // solver's limit) reaches every rank before the sum below instead of leaving them waiting.
  mpi::agreed(comm, [&] {
    for (std::size_t task = std::size_t(rank); task < tasks; task += std::size_t(size)) {
      const std::size_t i = task / nt, t = task % nt;
      const auto y = make_vector(cfg, i, static_cast<std::uint32_t>(t));
      for (std::size_t q = 0; q < nq; ++q) {
        const Measured m = quantize_once(y, cfg.quantizers[q], cfg, static_cast<std::uint32_t>(t));
        const std::size_t at = (i * nq + q) * nt + t;
        buf[at] = m.vnmse;
        buf[stride + at] = m.expected;
        buf[2 * stride + at] = m.solve_ms;
      }
      progress.step();
    }
  });
  DME_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, buf.data(), static_cast<int>(buf.size()), MPI_DOUBLE,
                              MPI_SUM, comm));
  std::vector<SinglePoint> pts;
  for (std::size_t i = 0; i < ns; ++i)
    for (std::size_t q = 0; q < nq; ++q) {
      const auto at = buf.begin() + std::ptrdiff_t((i * nq + q) * nt);
      const auto n = std::ptrdiff_t(nt), st = std::ptrdiff_t(stride);
      pts.push_back({cfg.quantizers[q],
                     solver_is_biased(cfg.quantizers[q]),
                     cfg.sigmas[i],
                     {at, at + n},
                     {at + st, at + st + n},
                     {at + 2 * st, at + 2 * st + n}});
    }
  return pts;
}

int run_single_experiment(const SingleExperimentConfig& cfg, MPI_Comm comm, std::ostream& os) {
  const auto pts = run_single_sweep(cfg, comm);
  if (mpi::comm_rank(comm) == 0) {
    Table table(
        {"sigma", "quantizer", "biased", "vnmse_mean", "vnmse_std", "expected_vnmse", "solve_ms"},
        cfg.output.csv);
    table.print_header(os);
    for (const auto& p : pts)
      table.print_row(
          os, {p.sigma, std::string(solver_name(p.quantizer)), static_cast<long long>(p.biased),
               p.vnmse_mean(), p.vnmse_std(), mean_of(p.expected_vnmse), mean_of(p.solve_ms)});
    if (!cfg.output.csv) print_summary(cfg, pts, os);
  }
  std::vector<Run> runs;
  for (Solver q : cfg.quantizers) runs.push_back(make_run(cfg, pts, q));
  write_output(cfg.output, "dme-experiment single", comm, {cfg.seed}, runs);
  return 0;
}

}  // namespace dme
