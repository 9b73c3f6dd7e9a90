// The gaussianity driver against closed forms: one RHT of a one-hot vector gives a Rademacher
// coordinate, two give an exactly binomial one, whose Kolmogorov distance to N(0,1) falls like
// D^-1/2.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "dme/core/normal.h"
#include "dme/experiment/gaussianity_experiment.h"
#include "experiment_test_support.h"

namespace {

using dme::Distribution;
using dme::normal_cdf;

// Brute force: sup_t |F(t) − Φ(t)| for z = (2B − D)/sqrt(D), B ~ Binomial(D, 1/2), checked on
// both sides of every atom.
double binomial_kolmogorov(int dim) {
  double cdf = 0, k = 0;
  for (int b = 0; b <= dim; ++b) {
    const double atom = (2.0 * b - dim) / std::sqrt(double(dim));
    const double p = std::exp(std::lgamma(dim + 1.0) - std::lgamma(b + 1.0) -
                              std::lgamma(dim - b + 1.0) - dim * std::log(2.0));
    k = std::max(k, std::fabs(cdf - normal_cdf(atom)));
    cdf += p;
    k = std::max(k, std::fabs(cdf - normal_cdf(atom)));
  }
  return k;
}

dme::GaussianityExperimentConfig config(std::vector<dme::GaussianityInput> inputs) {
  dme::GaussianityExperimentConfig cfg;
  cfg.inputs = std::move(inputs);
  cfg.log2d = {6, 8, 10, 12};
  cfg.rotations = {1, 2};
  cfg.seeds = 256;
  cfg.output.quiet = true;
  return cfg;
}

const dme::GaussianityPoint& at(const std::vector<dme::GaussianityPoint>& pts, Distribution d,
                                int log2d, int k) {
  auto it = std::find_if(pts.begin(), pts.end(), [&](const dme::GaussianityPoint& p) {
    return p.input.dist == d && p.log2d == log2d && p.rotations == k;
  });
  EXPECT_NE(it, pts.end());
  return *it;
}

// After one RHT a one-hot input's coordinates are ±1 (half each: a Hadamard row is balanced), so
// K = Φ(1) − 1/2 and W1 = 2(∫_{-∞}^{-1} Φ + ∫_0^1 (Φ − 1/2)) exactly, at every D; the coordinates
// are fully dependent (z_a z_b = H_pa H_pb). A two-hot input gives 0 (half) and ±sqrt(2)
// (a quarter each): K = 1/4. The histogram resolves K to 2.5e-5 and W1 to 3e-5 (1e-4 asserted);
// two-hot's split into ±sqrt(2) depends on the seeds, hence 0.01.
TEST(GaussianityExperiment, OneRhtOfSparseInputsMatchesTheClosedForm) {
  const auto pts = dme::run_gaussianity_sweep(
      config({{Distribution::kOneHot, 1}, {Distribution::kTwoHot, 1}}), MPI_COMM_WORLD);
  const double k_exact = normal_cdf(1) - 0.5;
  const double phi1 = std::exp(-0.5) / std::sqrt(2 * std::numbers::pi);  // φ(1)
  const double phi0 = 1 / std::sqrt(2 * std::numbers::pi);               // φ(0)
  const double w1_exact = 2 * ((-normal_cdf(-1) + phi1) + (normal_cdf(1) + phi1 - phi0 - 0.5));
  for (int l : {6, 8, 10, 12}) {
    const auto& one = at(pts, Distribution::kOneHot, l, 1);
    EXPECT_NEAR(one.kolmogorov, k_exact, 1e-4) << "D=2^" << l;
    EXPECT_NEAR(one.w1, w1_exact, 1e-4) << "D=2^" << l;
    EXPECT_GT(one.cov_rms, 0.9) << "D=2^" << l;
    EXPECT_NEAR(at(pts, Distribution::kTwoHot, l, 1).kolmogorov, 0.25, 0.01) << "D=2^" << l;
  }
}

// Two RHTs of a one-hot input: each coordinate is a sum of D independent Rademachers over
// sqrt(D) (the second RHT's signs times fixed ±1), so its law is exactly the standardised
// Binomial(D, 1/2). The pooled estimate deviated from it by at most 1.1x the sampling floor
// 0.87/sqrt(seeds·D) in a sweep up to D = 2^16; 3x the floor is the tolerance.
TEST(GaussianityExperiment, TwoRhtsOfOneHotAreBinomialAndDecayLikeInverseSqrtD) {
  const auto cfg = config({{Distribution::kOneHot, 1}, {Distribution::kTwoHot, 1}});
  const auto pts = dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD);
  for (int l : cfg.log2d) {
    const auto& two = at(pts, Distribution::kOneHot, l, 2);
    EXPECT_NEAR(two.kolmogorov, binomial_kolmogorov(1 << l), 3 * two.kolmogorov_floor + 5e-5)
        << "D=2^" << l;
  }
  for (Distribution d : {Distribution::kOneHot, Distribution::kTwoHot}) {
    for (std::size_t i = 1; i < cfg.log2d.size(); ++i)
      EXPECT_LT(at(pts, d, cfg.log2d[i], 2).kolmogorov, at(pts, d, cfg.log2d[i - 1], 2).kolmogorov)
          << dme::distribution_name(d) << " D=2^" << cfg.log2d[i];
    const std::string label(dme::distribution_name(d));
    EXPECT_NEAR(dme::kolmogorov_slope(pts, label, 2), -0.5, 0.1) << label;
    // One RHT does not help a sparse input at any D.
    EXPECT_NEAR(dme::kolmogorov_slope(pts, label, 1), 0.0, 0.05) << label;
  }
}

TEST(GaussianityExperiment, AdaptiveCountAndMomentsOfTheInputs) {
  auto cfg = config({{Distribution::kOneHot, 1}, {Distribution::kNormal, 1}});
  cfg.log2d = {10};
  cfg.rotations = {2};
  cfg.seeds = 4;
  const auto pts = dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD);
  const auto& onehot = at(pts, Distribution::kOneHot, 10, 2);
  EXPECT_DOUBLE_EQ(onehot.rho, 32.0);      // sqrt(D)
  EXPECT_DOUBLE_EQ(onehot.kappa, 1024.0);  // D
  EXPECT_EQ(onehot.adaptive, 2);
  const auto& normal = at(pts, Distribution::kNormal, 10, 2);
  EXPECT_NEAR(normal.rho, std::sqrt(8 / std::numbers::pi), 0.2);  // E|g|^3 = 2 sqrt(2/pi)
  EXPECT_EQ(normal.adaptive, 1);
}

// Seeds are split over ranks and the counts summed: the histogram, hence K, cannot depend on the
// split; the covariances are double sums in another order (1e-12).
TEST(GaussianityExperiment, ResultsDoNotDependOnTheRankCount) {
  auto cfg = config({{Distribution::kLogNormal, 1.5}, {Distribution::kTwoHot, 1}});
  cfg.log2d = {5, 9};
  cfg.rotations = {1, 3};
  cfg.seeds = 37;
  const auto world = dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD);
  const auto alone = dme::run_gaussianity_sweep(cfg, MPI_COMM_SELF);
  ASSERT_EQ(world.size(), alone.size());
  for (std::size_t i = 0; i < world.size(); ++i) {
    EXPECT_EQ(world[i].kolmogorov, alone[i].kolmogorov);
    EXPECT_NEAR(world[i].w1, alone[i].w1, 1e-12);
    EXPECT_NEAR(world[i].cov_rms, alone[i].cov_rms, 1e-12);
    EXPECT_NEAR(world[i].cov2_rms, alone[i].cov2_rms, 1e-12);
    EXPECT_TRUE(dme::testing::same_on_all_ranks({world[i].kolmogorov, world[i].w1}));
  }
}

TEST(GaussianityExperiment, BadOptionsFailEverywhere) {
  auto cfg = config({{Distribution::kOneHot, 1}});
  cfg.log2d = {0};
  dme::testing::expect_error_everywhere([&] { dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD); },
                                        "--log2d values must be in 1..24, got 0");
  cfg = config({{Distribution::kOneHot, 1}});
  cfg.rotations = {0};
  dme::testing::expect_error_everywhere([&] { dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD); },
                                        "--rotations values must be in 1..3, got 0");
  cfg = config({{Distribution::kOneHot, 1}});
  cfg.seeds = 1;
  dme::testing::expect_error_everywhere([&] { dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD); },
                                        "--seeds must be at least 2, got 1");
  cfg = config({{Distribution::kFile, 1}});
  dme::testing::expect_error_everywhere([&] { dme::run_gaussianity_sweep(cfg, MPI_COMM_WORLD); },
                                        "'file' is not supported");
}

}  // namespace
