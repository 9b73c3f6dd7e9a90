// The single-vector driver reproduces the orderings of the QUIVER paper's Figure 1a, its
// sampled errors agree with the closed form, and splitting the work over ranks changes nothing.
#include <gtest/gtest.h>

#include <algorithm>

#include "dme/experiment/single_experiment.h"
#include "experiment_test_support.h"

namespace {

using dme::Solver;

dme::SingleExperimentConfig small_config() {
  dme::SingleExperimentConfig cfg;
  cfg.d = std::size_t(1) << 12;
  cfg.sigmas = {0.5, 1.0, 1.5};
  cfg.trials = 3;
  cfg.output.quiet = true;
  return cfg;
}

const dme::SinglePoint& at(const std::vector<dme::SinglePoint>& pts, Solver q, double sigma) {
  auto it = std::find_if(pts.begin(), pts.end(), [&](const dme::SinglePoint& p) {
    return p.quantizer == q && p.sigma == sigma;
  });
  EXPECT_NE(it, pts.end());
  return *it;
}

// At d = 4096 the measured gaps are wide (kmeans/quiver ~0.35, quiver/uniform < 0.3,
// kmeans/rtn < 0.1), far beyond the few-percent spread of a 4096-coordinate error sum.
TEST(SingleExperiment, AdaptiveBeatsUniformAndBiasedBeatsUnbiasedForOneVector) {
  const auto cfg = small_config();
  const auto pts = dme::run_single_sweep(cfg, MPI_COMM_WORLD);
  ASSERT_EQ(pts.size(), cfg.sigmas.size() * 4);
  for (double sigma : cfg.sigmas) {
    const double quiver = at(pts, Solver::kQuiver, sigma).vnmse_mean();
    const double kmeans = at(pts, Solver::kKmeans, sigma).vnmse_mean();
    EXPECT_LT(kmeans, quiver) << "sigma " << sigma;
    EXPECT_LT(quiver, at(pts, Solver::kUniform, sigma).vnmse_mean()) << "sigma " << sigma;
    EXPECT_LT(kmeans, at(pts, Solver::kRtn, sigma).vnmse_mean()) << "sigma " << sigma;
  }
}

// Stochastic rounding's sampled vNMSE has the analytic value as expectation; one draw over 4096
// coordinates deviates from it by a few percent (sum of independent bounded terms), so 25%
// per trial is a wide margin. Nearest rounding is deterministic: both columns are equal.
TEST(SingleExperiment, SampledErrorMatchesTheClosedForm) {
  const auto pts = dme::run_single_sweep(small_config(), MPI_COMM_WORLD);
  for (const auto& p : pts) {
    ASSERT_EQ(p.vnmse.size(), 3u);
    for (std::size_t t = 0; t < p.vnmse.size(); ++t) {
      if (p.biased)
        EXPECT_EQ(p.vnmse[t], p.expected_vnmse[t]);
      else
        EXPECT_NEAR(p.vnmse[t], p.expected_vnmse[t], 0.25 * p.expected_vnmse[t])
            << dme::solver_name(p.quantizer) << " sigma " << p.sigma << " trial " << t;
      EXPECT_GE(p.solve_ms[t], 0.0);
    }
  }
}

// Tasks are keyed by (sigma, trial), never by rank: any split gives the same numbers.
TEST(SingleExperiment, ResultsDoNotDependOnTheRankCount) {
  auto cfg = small_config();
  cfg.rotations = 2;
  const auto world = dme::run_single_sweep(cfg, MPI_COMM_WORLD);
  const auto alone = dme::run_single_sweep(cfg, MPI_COMM_SELF);
  ASSERT_EQ(world.size(), alone.size());
  for (std::size_t i = 0; i < world.size(); ++i) {
    EXPECT_EQ(world[i].vnmse, alone[i].vnmse);
    EXPECT_EQ(world[i].expected_vnmse, alone[i].expected_vnmse);
    EXPECT_TRUE(dme::testing::same_on_all_ranks(world[i].vnmse));
  }
}

TEST(SingleExperiment, BadOptionsFailEverywhere) {
  auto cfg = small_config();
  cfg.sigmas = {0.5, -1};
  dme::testing::expect_error_everywhere([&] { dme::run_single_sweep(cfg, MPI_COMM_WORLD); },
                                        "--sigmas values must be finite and >= 0, got -1");
  cfg = small_config();
  cfg.s = 1;
  dme::testing::expect_error_everywhere([&] { dme::run_single_sweep(cfg, MPI_COMM_WORLD); },
                                        "--s must be in 2..65536, got 1");
  cfg = small_config();
  cfg.rotations = 4;
  dme::testing::expect_error_everywhere([&] { dme::run_single_sweep(cfg, MPI_COMM_WORLD); },
                                        "--rotations must be in 0..3, got 4");
  cfg = small_config();
  cfg.d = 0;
  dme::testing::expect_error_everywhere([&] { dme::run_single_sweep(cfg, MPI_COMM_WORLD); },
                                        "--d must be at least 1, got 0");
}

}  // namespace
