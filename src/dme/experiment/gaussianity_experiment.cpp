#include "dme/experiment/gaussianity_experiment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/normal.h"
#include "dme/core/rng.h"
#include "dme/experiment/table.h"
#include "dme/rotation/adaptive_count.h"
#include "dme/rotation/rht.h"

namespace dme {
namespace {

// Histogram of z on [-kRange, kRange): bin width w = 2^-13 bounds the Kolmogorov error by
// w·max φ = 0.4·w ≈ 2.5e-5 and the W1 error by w/2 ≈ 3e-5, well below the distances of interest
// (> 1e-4 up to D = 2^16) while 2 MB of counts per rank still fit in cache.
constexpr int kBins = 1 << 18;
constexpr double kRange = 8.0;
constexpr int kMaxLog2d = 24;
// E[sup |F_N − Φ|] ≈ sqrt(π/2)·ln 2/sqrt(N) for N iid samples (Kolmogorov's limit law).
constexpr double kKolmogorovMean = 0.8687;

void validate_config(const GaussianityExperimentConfig& cfg) {
  DME_CHECK(!cfg.log2d.empty() && !cfg.rotations.empty() && !cfg.inputs.empty(),
            "--log2d, --rotations and --dists must each give at least one value");
  for (const auto& in : cfg.inputs) {
    DME_CHECK(in.dist != Distribution::kFile, "--dists: 'file' is not supported by gaussianity");
    DME_CHECK(std::isfinite(in.sigma) && in.sigma >= 0,
              "--lognormal-sigmas values must be finite and >= 0, got " << in.sigma);
  }
  for (int l : cfg.log2d)  // D >= 2: a twohot input and a coordinate pair need two coordinates
    DME_CHECK(l >= 1 && l <= kMaxLog2d,
              "--log2d values must be in 1.." << kMaxLog2d << ", got " << l);
  for (int k : cfg.rotations)
    DME_CHECK(k >= 1 && k <= kMaxRotations,
              "--rotations values must be in 1.." << kMaxRotations << ", got " << k);
  DME_CHECK(cfg.seeds >= 2, "--seeds must be at least 2, got " << cfg.seeds);
  DME_CHECK(cfg.pairs >= 1, "--pairs must be at least 1, got " << cfg.pairs);
}

std::vector<float> fixed_input(const GaussianityInput& in, std::size_t dim, std::uint64_t seed) {
  DistributionParams p;
  if (in.dist == Distribution::kLogNormal) p.sigma = in.sigma;
  std::vector<float> x(dim);
  generate(in.dist, p, seed, 0, 0, x);
  return x;
}

// Distinct coordinate pairs, drawn once per D from a stream no input uses (round 2^32 − 1).
std::vector<std::pair<std::size_t, std::size_t>> coordinate_pairs(std::size_t dim, int count,
                                                                  std::uint64_t seed) {
  const PhiloxStream stream(seed, 0xFFFFFFFFu, 0, Purpose::kInput);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (int p = 0; p < count; ++p) {
    const std::size_t a = stream.bits32(2 * std::uint64_t(p)) % dim;
    const std::size_t b = (a + 1 + stream.bits32(2 * std::uint64_t(p) + 1) % (dim - 1)) % dim;
    out.emplace_back(a, b);
  }
  return out;
}

// Sums over this rank's seeds, reduced to rank 0.
struct Sums {
  std::vector<std::uint64_t> counts;  // kBins histogram, then below, above
  std::vector<double> reals;          // tail excess, then per pair: a, b, ab, a², b², a²b²

  explicit Sums(int pairs) : counts(kBins + 2, 0), reals(1 + 6 * std::size_t(pairs), 0.0) {}

  void add(std::span<const double> z,
           const std::vector<std::pair<std::size_t, std::size_t>>& pairs) {
    constexpr double inv_w = kBins / (2 * kRange);
    for (double v : z) {
      const double pos = (v + kRange) * inv_w;
      if (pos < 0) {
        ++counts[kBins];
        reals[0] += -v - kRange;
      } else if (pos >= kBins) {
        ++counts[kBins + 1];
        reals[0] += v - kRange;
      } else {
        ++counts[static_cast<std::size_t>(pos)];
      }
    }
    for (std::size_t p = 0; p < pairs.size(); ++p) {
      const double a = z[pairs[p].first], b = z[pairs[p].second];
      double* r = &reals[1 + 6 * p];
      r[0] += a, r[1] += b, r[2] += a * b, r[3] += a * a, r[4] += b * b, r[5] += a * a * b * b;
    }
  }

  void reduce_to_root(MPI_Comm comm) {
    const bool root = mpi::comm_rank(comm) == 0;
    DME_MPI_CHECK(MPI_Reduce(root ? MPI_IN_PLACE : counts.data(), counts.data(),
                             static_cast<int>(counts.size()), MPI_UINT64_T, MPI_SUM, 0, comm));
    DME_MPI_CHECK(MPI_Reduce(root ? MPI_IN_PLACE : reals.data(), reals.data(),
                             static_cast<int>(reals.size()), MPI_DOUBLE, MPI_SUM, 0, comm));
  }
};

// Kolmogorov and W1 distances of the histogram's distribution to N(0,1). F is known exactly at
// the bin edges (as F(t−)); between edges it is bracketed by its values at the two edges.
std::pair<double, double> distances(const Sums& s) {
  constexpr double w = 2 * kRange / kBins;
  double total = 0;
  for (std::uint64_t c : s.counts) total += double(c);
  double cum = double(s.counts[kBins]);
  double k = std::fabs(cum / total - normal_cdf(-kRange));
  double w1 = s.reals[0] / total;
  for (int i = 0; i < kBins; ++i) {
    const double left = -kRange + i * w;
    const double f_left = cum / total;
    cum += double(s.counts[std::size_t(i)]);
    const double f_right = cum / total;
    k = std::max(k, std::fabs(f_right - normal_cdf(left + w)));
    w1 += w * std::fabs(0.5 * (f_left + f_right) - normal_cdf(left + 0.5 * w));
  }
  return {k, w1};
}

std::pair<double, double> covariances(const Sums& s, int seeds, int pairs) {
  double c1 = 0, c2 = 0;
  const double n = seeds;
  for (int p = 0; p < pairs; ++p) {
    const double* r = &s.reals[1 + 6 * std::size_t(p)];
    const double cov = r[2] / n - (r[0] / n) * (r[1] / n);
    const double cov2 = r[5] / n - (r[3] / n) * (r[4] / n);
    c1 += cov * cov, c2 += cov2 * cov2;
  }
  return {std::sqrt(c1 / pairs), std::sqrt(c2 / pairs)};
}

// One (input, D, k) point: this rank's seeds, reduced; every rank returns rank 0's result.
GaussianityPoint measure(const GaussianityExperimentConfig& cfg, const GaussianityInput& in,
                         int log2d, int k, MPI_Comm comm) {
  const std::size_t dim = (std::size_t(1) << log2d) + cfg.extra;
  const std::size_t rotated = padded_length(dim, cfg.layout);
  const int rank = mpi::comm_rank(comm), size = mpi::comm_size(comm);
  Sums sums(cfg.pairs);
  std::vector<float> xf;
  // The local work (the input, its rotations; an allocation of 2^log2d doubles can fail on one
  // rank) is one agreed step: a failure reaches every rank before the reductions below.
  mpi::agreed(comm, [&] {
    xf = fixed_input(in, dim, cfg.seed);
    const std::vector<double> x(xf.begin(), xf.end());
    double norm2 = 0;
    for (double v : x) norm2 += v * v;
    DME_CHECK(norm2 > 0,
              "gaussianity: the " << in.label() << " input of length " << dim << " is zero");
    const double scale = std::sqrt(double(rotated) / norm2);  // unit variance per coordinate
    const auto pairs = coordinate_pairs(rotated, cfg.pairs, cfg.seed);
    std::vector<double> z(rotated);
    for (int s = rank; s < cfg.seeds; s += size) {
      Rotation rot(cfg.seed, static_cast<std::uint32_t>(s), k, dim, 0, cfg.layout, cfg.block);
      rot.forward(x, z);
      for (double& v : z) v *= scale;
      sums.add(z, pairs);
    }
  });
  sums.reduce_to_root(comm);
  const MomentSummary m = moment_summary(xf);
  GaussianityPoint pt{in, log2d, k, m.rho, m.kappa, adaptive_rotation_count(xf), 0, 0, 0, 0, 0};
  pt.kolmogorov_floor = kKolmogorovMean / std::sqrt(double(cfg.seeds) * double(rotated));
  double stats[4] = {0, 0, 0, 0};
  if (rank == 0) {
    std::tie(stats[0], stats[1]) = distances(sums);
    std::tie(stats[2], stats[3]) = covariances(sums, cfg.seeds, cfg.pairs);
  }
  DME_MPI_CHECK(MPI_Bcast(stats, 4, MPI_DOUBLE, 0, comm));
  pt.kolmogorov = stats[0], pt.w1 = stats[1], pt.cov_rms = stats[2], pt.cov2_rms = stats[3];
  return pt;
}

const GaussianityPoint* find(const std::vector<GaussianityPoint>& pts, const std::string& label,
                             int log2d, int k) {
  for (const auto& p : pts)
    if (p.log2d == log2d && p.rotations == k && p.input.label() == label) return &p;
  return nullptr;
}

double ratio_to_two(const std::vector<GaussianityPoint>& pts, const GaussianityPoint& p) {
  const GaussianityPoint* two = find(pts, p.input.label(), p.log2d, 2);
  return two && two->kolmogorov > 0 ? p.kolmogorov / two->kolmogorov
                                    : std::numeric_limits<double>::quiet_NaN();
}

std::string run_name(const GaussianityInput& in) {
  return "gaussianity_" + in.label();
}
Run make_run(const GaussianityExperimentConfig& cfg, const std::vector<GaussianityPoint>& pts,
             const GaussianityInput& in);
void print_summary(const GaussianityExperimentConfig& cfg, const std::vector<GaussianityPoint>& pts,
                   std::ostream& os);

}  // namespace

std::string GaussianityInput::label() const {
  std::string name(distribution_name(dist));
  if (dist != Distribution::kLogNormal) return name;
  std::ostringstream s;
  s << name << "_sigma" << sigma;
  return s.str();
}

double kolmogorov_slope(const std::vector<GaussianityPoint>& pts, const std::string& label,
                        int rotations) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (const auto& p : pts) {
    if (p.input.label() != label || p.rotations != rotations) continue;
    // The sampling floor itself falls like D^-1/2 at a fixed number of seeds: points near it
    // would fake the decay, so only clearly resolved distances enter the fit.
    if (!(p.kolmogorov > kResolvedOverFloor * p.kolmogorov_floor)) continue;
    const double x = p.log2d * std::log(2.0), y = std::log(p.kolmogorov);
    sx += x, sy += y, sxx += x * x, sxy += x * y, n += 1;
  }
  const double denom = n * sxx - sx * sx;
  return n < 2 || denom == 0 ? std::numeric_limits<double>::quiet_NaN()
                             : (n * sxy - sx * sy) / denom;
}

std::vector<GaussianityPoint> run_gaussianity_sweep(const GaussianityExperimentConfig& cfg,
                                                    MPI_Comm comm) {
  mpi::alike_everywhere([&] { validate_config(cfg); });
  std::vector<std::string> names;
  for (const auto& in : cfg.inputs) names.push_back(run_name(in));
  check_output(cfg.output, comm, names);
  Progress progress("gaussianity", cfg.inputs.size() * cfg.log2d.size() * cfg.rotations.size(),
                    !cfg.output.quiet && mpi::comm_rank(comm) == 0);
  std::vector<GaussianityPoint> pts;
  for (const auto& in : cfg.inputs)
    for (int l : cfg.log2d)
      for (int k : cfg.rotations) {
        pts.push_back(measure(cfg, in, l, k, comm));
        progress.step();
      }
  return pts;
}

int run_gaussianity_experiment(const GaussianityExperimentConfig& cfg, MPI_Comm comm,
                               std::ostream& os) {
  const auto pts = run_gaussianity_sweep(cfg, comm);
  if (mpi::comm_rank(comm) == 0) {
    Table table({"input", "log2d", "rotations", "rho", "kappa", "adaptive", "kolmogorov", "k_floor",
                 "w1", "cov_rms", "cov2_rms", "k_over_k2"},
                cfg.output.csv);
    table.print_header(os);
    for (const auto& p : pts)
      table.print_row(os, {p.input.label(), static_cast<long long>(p.log2d),
                           static_cast<long long>(p.rotations), p.rho, p.kappa,
                           static_cast<long long>(p.adaptive), p.kolmogorov, p.kolmogorov_floor,
                           p.w1, p.cov_rms, p.cov2_rms, ratio_to_two(pts, p)});
    if (!cfg.output.csv) print_summary(cfg, pts, os);
  }
  std::vector<Run> runs;
  for (const auto& in : cfg.inputs) runs.push_back(make_run(cfg, pts, in));
  write_output(cfg.output, "dme-experiment gaussianity", comm, {cfg.seed}, runs);
  return 0;
}

namespace {

Run make_run(const GaussianityExperimentConfig& cfg, const std::vector<GaussianityPoint>& pts,
             const GaussianityInput& in) {
  Run run;
  run.name = run_name(in);
  run.parameters["experiment"] = std::string("gaussianity");
  run.parameters["distribution"] = std::string(distribution_name(in.dist));
  if (in.dist == Distribution::kLogNormal) run.parameters["sigma"] = in.sigma;
  run.parameters["seeds"] = std::int64_t(cfg.seeds);
  run.parameters["pairs"] = std::int64_t(cfg.pairs);
  run.parameters["extra"] = std::int64_t(cfg.extra);
  run.parameters["rotation_layout"] = std::string(rotation_layout_name(cfg.layout));
  run.parameters["rotation_block"] = std::int64_t(cfg.block);
  run.parameters["histogram_bins"] = std::int64_t(kBins);
  run.parameters["histogram_range"] = kRange;
  run.parameters["statistic"] = std::string(
      "law of one coordinate of sqrt(D) R x / |x|, pooled over all D coordinates "
      "of every seed (all coordinates share that law)");
  const std::size_t nd = cfg.log2d.size(), nk = cfg.rotations.size();
  std::vector<double> log2d, rotations, rho, kappa, adaptive, floor, slopes;
  std::vector<double> k(nk * nd), w1(nk * nd), cov(nk * nd), cov2(nk * nd);
  for (std::size_t j = 0; j < nd; ++j) {
    const GaussianityPoint* p = find(pts, in.label(), cfg.log2d[j], cfg.rotations[0]);
    log2d.push_back(cfg.log2d[j]);
    rho.push_back(p->rho), kappa.push_back(p->kappa), adaptive.push_back(p->adaptive);
    floor.push_back(p->kolmogorov_floor);
    for (std::size_t i = 0; i < nk; ++i) {
      const GaussianityPoint* q = find(pts, in.label(), cfg.log2d[j], cfg.rotations[i]);
      k[i * nd + j] = q->kolmogorov, w1[i * nd + j] = q->w1;
      cov[i * nd + j] = q->cov_rms, cov2[i * nd + j] = q->cov2_rms;
    }
  }
  for (int r : cfg.rotations) {
    rotations.push_back(r);
    slopes.push_back(kolmogorov_slope(pts, in.label(), r));
  }
  const std::map<std::string, AttrValue> axes = {{"axis0", std::string("rotations")},
                                                 {"axis1", std::string("log2d")}};
  run.datasets.push_back({"log2d", log2d, {nd}, "1", {}});
  run.datasets.push_back({"rotations", rotations, {nk}, "1", {}});
  run.datasets.push_back({"kolmogorov", k, {nk, nd}, "1", axes});
  run.datasets.push_back({"w1", w1, {nk, nd}, "1", axes});
  run.datasets.push_back({"cov_rms", cov, {nk, nd}, "1", axes});
  run.datasets.push_back({"cov2_rms", cov2, {nk, nd}, "1", axes});
  run.datasets.push_back({"kolmogorov_floor", floor, {nd}, "1", {}});
  run.datasets.push_back(
      {"kolmogorov_slope",
       slopes,
       {nk},
       "1",
       {{"description", std::string("slope of log K against log D, per rotations")}}});
  run.datasets.push_back({"rho", rho, {nd}, "1", {}});
  run.datasets.push_back({"kappa", kappa, {nd}, "1", {}});
  run.datasets.push_back({"adaptive_count", adaptive, {nd}, "1", {}});
  return run;
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << (std::fabs(v) < 0.5 * std::pow(10.0, -digits) ? 0.0 : v);  // never "-0.000"
  return s.str();
}

// Slopes per input, the covariance noise floors, then the evidence for the adaptive threshold:
// one RHT counts as good as two when its Kolmogorov distance is within 2x of the two-RHT one
// (or of the sampling floor, when two RHTs already sit on it).
void print_summary(const GaussianityExperimentConfig& cfg, const std::vector<GaussianityPoint>& pts,
                   std::ostream& os) {
  os << "# slope of log K vs log D (points with K > " << kResolvedOverFloor
     << " x k_floor only; nan: at the sampling floor):\n";
  for (const auto& in : cfg.inputs) {
    os << "#   " << in.label() << ":";
    for (int r : cfg.rotations)
      os << " k=" << r << " " << fixed(kolmogorov_slope(pts, in.label(), r), 3);
    os << "\n";
  }
  os << "# covariance noise floors for independent N(0,1) coordinates: cov_rms ~ "
     << fixed(1 / std::sqrt(double(cfg.seeds)), 4) << ", cov2_rms ~ "
     << fixed(std::sqrt(8 / double(cfg.seeds)), 4) << "\n";
  double first_bad = std::numeric_limits<double>::infinity(), last_good = 0;
  std::string bad_at;
  for (const auto& p : pts) {
    const GaussianityPoint* two = find(pts, p.input.label(), p.log2d, 2);
    if (p.rotations != 1 || !two) continue;
    if (p.kolmogorov <= 2 * std::max(two->kolmogorov, p.kolmogorov_floor)) {
      last_good = std::max(last_good, p.rho);
    } else if (p.rho < first_bad) {
      first_bad = p.rho;
      bad_at = p.input.label() + " at D=2^" + std::to_string(p.log2d);
    }
  }
  if (last_good == 0 && !std::isfinite(first_bad)) return;
  os << "# one RHT as good as two (K1 <= 2 max(K2, k_floor)) at every rho < "
     << fixed(first_bad, 2);
  if (!bad_at.empty()) os << " (first exception: " << bad_at << ")";
  os << "; largest rho where it still was: " << fixed(last_good, 2)
     << "; adaptive_rotation_count uses rho <= " << kOneRotationMaxRho << "\n";
}

}  // namespace
}  // namespace dme
