#include "dme/experiment/bias_experiment.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>
#include <string>

#include "dme/collective/mean_estimator.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/experiment/table.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/solver_progress.h"

namespace dme {
namespace {

double mean_of(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
}

double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return std::sqrt(ss / double(v.size() - 1));
}

std::string rotations_label(int r) {
  return r == kAutoRotations ? "auto" : std::to_string(r);
}

// The ranks [0, n) of comm, or MPI_COMM_NULL on the others; freed on destruction.
class SubComm {
 public:
  SubComm(MPI_Comm comm, int n) {
    const int color = mpi::comm_rank(comm) < n ? 0 : MPI_UNDEFINED;
    DME_MPI_CHECK(MPI_Comm_split(comm, color, mpi::comm_rank(comm), &comm_));
  }
  ~SubComm() {
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  }
  SubComm(const SubComm&) = delete;
  SubComm& operator=(const SubComm&) = delete;
  MPI_Comm get() const { return comm_; }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
};

std::vector<int> sweep_ranks(const BiasExperimentConfig& cfg, int launched) {
  if (!cfg.ranks.empty()) return cfg.ranks;
  std::vector<int> out;
  for (int n = 1; n <= launched; n *= 2) out.push_back(n);
  if (out.back() != launched) out.push_back(launched);
  return out;
}

// Every check depends only on the config and the launch size, which all ranks share, so every
// rank throws the same error without communicating.
void validate_config(const BiasExperimentConfig& cfg, const std::vector<int>& ranks, int launched) {
  DME_CHECK(cfg.trials >= 1, "--trials must be at least 1, got " << cfg.trials);
  DME_CHECK(cfg.d >= 1, "--d must be at least 1, got " << cfg.d);
  DME_CHECK(!cfg.quantizers.empty(), "--quantizers must name at least one quantizer");
  DME_CHECK(!cfg.rotations.empty(), "--rotations must give at least one value");
  DME_CHECK(!cfg.exchanges.empty(), "--exchange must name at least one exchange");
  for (int n : ranks)
    DME_CHECK(n >= 1 && n <= launched, "--ranks value " << n << " is outside 1.." << launched
                                                        << " (the number of launched ranks)");
  validate_params(cfg.dist, cfg.params);
  for (Solver q : cfg.quantizers)
    for (int r : cfg.rotations)
      for (Exchange ex : cfg.exchanges) {
        Options o = cfg.options;
        o.solver = q;
        o.rotations = r;
        o.exchange = ex;
        o.rounding = Rounding::kAuto;
        validate(o);
      }
}

struct SweepPoint {
  Solver quantizer;
  int rotations;
  Exchange exchange;
  int ranks;
};

// Runs the trials of one point on the sub-communicator (every rank of `sub` calls it).
BiasPoint measure_point(const BiasExperimentConfig& cfg, const SweepPoint& p, MPI_Comm sub) {
  const int rank = mpi::comm_rank(sub), n = mpi::comm_size(sub);
  Options o = cfg.options;
  o.solver = p.quantizer;
  o.rotations = p.rotations;
  o.exchange = p.exchange;
  o.rounding = Rounding::kAuto;  // nearest for the biased quantizers
  MeanEstimator estimator(sub, o);
  BiasPoint out{
      p.quantizer, solver_is_biased(p.quantizer), p.rotations, 0, p.exchange, n, {}, {}, 0};
  std::vector<float> est(cfg.d);
  std::vector<double> sum(cfg.d), mean(cfg.d);
  for (int t = 0; t < cfg.trials; ++t) {
    // A rank whose input cannot be made (a file row with NaN, a wrong length) fails the step
    // on every rank of sub, before the collectives below.
    const auto x = mpi::agreed(sub, [&] {
      return make_input(cfg.dist, cfg.params, cfg.inputs, cfg.d, rank, o.seed,
                        static_cast<std::uint32_t>(t));
    });
    std::copy(x.begin(), x.end(), sum.begin());
    DME_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, sum.data(), static_cast<int>(cfg.d), MPI_DOUBLE, MPI_SUM, sub));
    double norm2 = 0, mean_norm2 = 0, err = 0;
    for (std::size_t i = 0; i < cfg.d; ++i) {
      mean[i] = sum[i] / n;
      norm2 += double(x[i]) * x[i];
      mean_norm2 += mean[i] * mean[i];
    }
    const double avg_norm2 = mpi::allreduce(norm2, MPI_SUM, sub) / n;
    const Report rep = estimator.estimate(x, est);
    for (std::size_t i = 0; i < cfg.d; ++i) err += (est[i] - mean[i]) * (est[i] - mean[i]);
    out.nmse.push_back(normalized_error(err, avg_norm2));  // 0 for an exact all-zero mean
    out.relerr.push_back(normalized_error(err, mean_norm2));
    out.rotations = rep.rotations;
    out.bits_per_coordinate = rep.bits_per_coordinate;
    const auto per_coord = [&](std::uint64_t v) {
      return 8.0 * double(mpi::allreduce(v, MPI_MAX, sub)) / double(cfg.d);
    };
    out.recv_bits = per_coord(rep.payload_bytes_received);
    out.reduce_bits = per_coord(rep.reduce_bytes_received);
    out.side_bits = per_coord(rep.metadata_bytes_received);
  }
  return out;
}

// Rank 0 (a member of every sub-communicator) shares a point with the ranks that sat it out.
void share_point(BiasPoint& p, int trials, MPI_Comm comm) {
  p.nmse.resize(static_cast<std::size_t>(trials));
  p.relerr.resize(static_cast<std::size_t>(trials));
  double scalars[5] = {double(p.rotations), p.bits_per_coordinate, p.recv_bits, p.reduce_bits,
                       p.side_bits};
  DME_MPI_CHECK(MPI_Bcast(p.nmse.data(), trials, MPI_DOUBLE, 0, comm));
  DME_MPI_CHECK(MPI_Bcast(p.relerr.data(), trials, MPI_DOUBLE, 0, comm));
  DME_MPI_CHECK(MPI_Bcast(scalars, 5, MPI_DOUBLE, 0, comm));
  p.rotations = static_cast<int>(scalars[0]);
  p.bits_per_coordinate = scalars[1];
  p.recv_bits = scalars[2];
  p.reduce_bits = scalars[3];
  p.side_bits = scalars[4];
}

// Least-squares slope of log y against log n: -1 for an error that averages out, 0 for one
// that does not.
double log_slope(const std::vector<const BiasPoint*>& pts) {
  if (pts.size() < 2) return std::nan("");
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const BiasPoint* p : pts) {
    const double x = std::log(double(p->ranks)), y = std::log(p->nmse_mean());
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  const double k = double(pts.size());
  const double denom = k * sxx - sx * sx;
  return denom == 0 ? std::nan("") : (k * sxy - sx * sy) / denom;
}

// A slope of -1e-16 would print as "-0.000".
double no_negative_zero(double v) {
  return std::fabs(v) < 5e-4 ? 0.0 : v;
}

std::vector<const BiasPoint*> line_of(const std::vector<BiasPoint>& all, Solver q, int rot,
                                      Exchange ex) {
  std::vector<const BiasPoint*> out;
  for (const auto& p : all)
    if (p.quantizer == q && p.rotations_requested == rot && p.exchange == ex) out.push_back(&p);
  return out;
}

void print_summary(const BiasExperimentConfig& cfg, const std::vector<BiasPoint>& all,
                   std::ostream& os) {
  for (int rot : cfg.rotations)
    for (Exchange ex : cfg.exchanges) {
      std::ostringstream line;
      line.setf(std::ios::fixed);
      line.precision(3);
      line << "# rotations " << rotations_label(rot)
           << (cfg.exchanges.size() > 1 ? ", " + std::string(exchange_name(ex)) : std::string())
           << ": slope of log NMSE vs log n (-1: averages out, 0: does not):";
      for (Solver q : cfg.quantizers)
        line << " " << solver_name(q) << " "
             << no_negative_zero(log_slope(line_of(all, q, rot, ex)));
      os << line.str() << "\n";
      for (Solver u : cfg.quantizers)
        for (Solver b : cfg.quantizers) {
          if (solver_is_biased(u) || !solver_is_biased(b)) continue;
          const auto lu = line_of(all, u, rot, ex), lb = line_of(all, b, rot, ex);
          std::string verdict = "never in this sweep";
          for (std::size_t i = 0; i < lu.size() && i < lb.size(); ++i)
            if (lu[i]->nmse_mean() < lb[i]->nmse_mean()) {
              verdict = "from n = " + std::to_string(lu[i]->ranks);
              break;
            }
          os << "#   " << solver_name(u) << " (unbiased) beats " << solver_name(b)
             << " (biased): " << verdict << "\n";
        }
    }
}

// bias_<quantizer>_rot<k>[_per_rank][_<exchange> for other exchanges than allgather].
std::string run_name(const BiasExperimentConfig& cfg, Solver q, int rotations_requested,
                     Exchange ex) {
  std::string name = "bias_";
  name += solver_name(q);
  name += "_rot";
  name += rotations_label(rotations_requested);
  if (!cfg.options.shared_rotation && rotations_requested != 0) name += "_per_rank";
  if (ex != Exchange::kAllgather) {
    name += '_';
    name += exchange_name(ex);
  }
  return name;
}

std::vector<std::string> run_names(const BiasExperimentConfig& cfg) {
  std::vector<std::string> names;
  for (int rot : cfg.rotations)
    for (Exchange ex : cfg.exchanges)
      for (Solver q : cfg.quantizers) names.push_back(run_name(cfg, q, rot, ex));
  return names;
}

Run make_run(const BiasExperimentConfig& cfg, const std::vector<const BiasPoint*>& line) {
  const BiasPoint& first = *line.front();
  Run run;
  run.name = run_name(cfg, first.quantizer, first.rotations_requested, first.exchange);
  run.parameters = describe_input(cfg.dist, cfg.params, cfg.inputs);
  run.parameters["experiment"] = std::string("bias");
  run.parameters["quantizer"] = std::string(solver_name(first.quantizer));
  run.parameters["biased"] = std::int64_t(first.biased);
  run.parameters["rotations"] = rotations_label(first.rotations_requested);
  run.parameters["rotations_used"] = std::int64_t(first.rotations);
  run.parameters["shared_rotation"] = std::int64_t(cfg.options.shared_rotation);
  run.parameters["rotation_block"] = std::int64_t(cfg.options.rotation_block);
  run.parameters["d"] = std::int64_t(cfg.d);
  run.parameters["s"] = std::int64_t(cfg.options.s);
  run.parameters["trials"] = std::int64_t(cfg.trials);
  run.parameters["exchange"] = std::string(exchange_name(first.exchange));
  const std::size_t k = line.size(), t = std::size_t(cfg.trials);
  std::vector<double> ranks, nmse, relerr, nmse_mean, nmse_std, bits, recv, reduce, side;
  for (const BiasPoint* p : line) {
    ranks.push_back(p->ranks);
    nmse.insert(nmse.end(), p->nmse.begin(), p->nmse.end());
    relerr.insert(relerr.end(), p->relerr.begin(), p->relerr.end());
    nmse_mean.push_back(p->nmse_mean());
    nmse_std.push_back(p->nmse_std());
    bits.push_back(p->bits_per_coordinate);
    recv.push_back(p->recv_bits);
    reduce.push_back(p->reduce_bits);
    side.push_back(p->side_bits);
  }
  const std::map<std::string, AttrValue> per_trial = {{"axis0", std::string("ranks")},
                                                      {"axis1", std::string("trial")}};
  auto with = [&](std::string desc) {
    auto a = per_trial;
    a["description"] = std::move(desc);
    return a;
  };
  run.datasets.push_back(
      {"ranks", ranks, {k}, "1", {{"description", std::string("n, the sub-communicator size")}}});
  run.datasets.push_back(
      {"nmse", nmse, {k, t}, "1", with("|mean_est - mean|^2 / ((1/n) sum_r |x_r|^2)")});
  run.datasets.push_back({"relerr", relerr, {k, t}, "1", with("|mean_est - mean|^2 / |mean|^2")});
  run.datasets.push_back({"nmse_mean", nmse_mean, {k}, "1", {}});
  run.datasets.push_back(
      {"nmse_std", nmse_std, {k}, "1", {{"description", std::string("sample std over trials")}}});
  run.datasets.push_back({"bits_per_coordinate", bits, {k}, "bits", {}});
  run.datasets.push_back({"recv_bits_per_coordinate", recv, {k}, "bits", {}});
  run.datasets.push_back({"reduce_bits_per_coordinate", reduce, {k}, "bits", {}});
  run.datasets.push_back({"side_bits_per_coordinate", side, {k}, "bits", {}});
  return run;
}

}  // namespace

Options BiasExperimentConfig::default_options() {
  Options o;
  o.s = 10;
  o.rotations = 0;
  return o;
}

DistributionParams BiasExperimentConfig::default_params() {
  DistributionParams p;
  p.sigma = 0.5;
  return p;
}

double BiasPoint::nmse_mean() const {
  return mean_of(nmse);
}
double BiasPoint::nmse_std() const {
  return std_of(nmse);
}
double BiasPoint::relerr_mean() const {
  return mean_of(relerr);
}
double BiasPoint::relerr_std() const {
  return std_of(relerr);
}

std::vector<BiasPoint> run_bias_sweep(const BiasExperimentConfig& cfg, MPI_Comm comm) {
  const int launched = mpi::comm_size(comm);
  const auto ranks = sweep_ranks(cfg, launched);
  mpi::alike_everywhere([&] { validate_config(cfg, ranks, launched); });
  check_output(cfg.output, comm, run_names(cfg));
  Progress progress(
      "bias", cfg.rotations.size() * cfg.exchanges.size() * ranks.size() * cfg.quantizers.size(),
      !cfg.output.quiet && mpi::comm_rank(comm) == 0);
  const ScopedSolverProgress solver_progress(
      [&](std::size_t done, std::size_t total) { progress.solver_layer(done, total); });
  std::vector<BiasPoint> points;
  for (int rot : cfg.rotations)
    for (Exchange ex : cfg.exchanges)
      for (Solver q : cfg.quantizers)
        for (int n : ranks) {
          SubComm sub(comm, n);
          // Every n uses the same rounds: trial t rotates alike and its shared ranks draw alike
          // for every n (a paired comparison across n); within one estimate the ranks' rounding
          // draws are independent because they are keyed by rank.
          BiasPoint p{q, solver_is_biased(q), rot, 0, ex, n, {}, {}, 0};
          // The ranks outside sub learn of a failure inside it before they wait for its result.
          mpi::agreed(comm, [&] {
            if (sub.get() != MPI_COMM_NULL) p = measure_point(cfg, {q, rot, ex, n}, sub.get());
          });
          share_point(p, cfg.trials, comm);
          points.push_back(std::move(p));
          progress.step();
        }
  return points;
}

int run_bias_experiment(const BiasExperimentConfig& cfg, MPI_Comm comm, std::ostream& os) {
  const auto points = run_bias_sweep(cfg, comm);
  if (mpi::comm_rank(comm) == 0) {
    Table table(
        {"quantizer", "biased", "exchange", "ranks", "nmse_mean", "nmse_std", "relerr_mean",
         "relerr_std", "rotations", "bits_per_coord", "recv_bits", "reduce_bits", "side_bits"},
        cfg.output.csv);
    table.print_header(os);
    for (const auto& p : points)
      table.print_row(os, {std::string(solver_name(p.quantizer)), static_cast<long long>(p.biased),
                           std::string(exchange_name(p.exchange)), static_cast<long long>(p.ranks),
                           p.nmse_mean(), p.nmse_std(), p.relerr_mean(), p.relerr_std(),
                           static_cast<long long>(p.rotations), p.bits_per_coordinate, p.recv_bits,
                           p.reduce_bits, p.side_bits});
    if (!cfg.output.csv) print_summary(cfg, points, os);
  }
  std::vector<Run> runs;
  for (int rot : cfg.rotations)
    for (Exchange ex : cfg.exchanges)
      for (Solver q : cfg.quantizers) runs.push_back(make_run(cfg, line_of(points, q, rot, ex)));
  write_output(cfg.output, "dme-experiment bias", comm, {cfg.options.seed}, runs);
  return 0;
}

}  // namespace dme
