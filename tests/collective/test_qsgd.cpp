// QSGD (Options::scheme = kQsgd): stochastic rounding to the s-point grid on [-‖x‖₂, ‖x‖₂]. One
// vector's error against its closed form Σ Δ²f(1−f), Δ = 2‖x‖/(s−1), by Monte Carlo; no bias
// over rounds; a zero vector stays exactly zero.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dme/collective/detail/compress.h"
#include "dme/collective/mean_estimator.h"
#include "scheme_test_support.h"

namespace {

using dme::test::make_setting;
using dme::test::mean_nmse;
using dme::test::Setting;

TEST(Qsgd, LevelsAreTheNormGrid) {
  const std::vector<float> x = {3.0f, -4.0f};
  const std::vector<float> levels = dme::detail::norm_grid_levels(x, 3);
  EXPECT_EQ(levels, (std::vector<float>{-5.0f, 0.0f, 5.0f}));
  EXPECT_EQ(dme::detail::norm_grid_levels(std::vector<float>(7, 0.0f), 4),
            std::vector<float>{0.0f});
}

TEST(Qsgd, OneVectorErrorFollowsTheClosedForm) {
  // 4096 coordinates, 200 rounds: the mean error sum is pinned far below the 3% bound.
  const std::vector<float> x = dme::test::lognormal_input(4096, 5);
  const std::size_t s = 4;
  const std::vector<float> levels = dme::detail::norm_grid_levels(x, s);
  double expected = 0;
  for (float v : x) {
    const double delta = double(levels[1]) - levels[0];
    const double f = std::fmod(double(v) - levels[0], delta) / delta;
    expected += delta * delta * f * (1 - f);
  }
  dme::CompressionPlan plan;
  plan.s = s;
  plan.norm_grid = true;
  EXPECT_NEAR(dme::test::monte_carlo_error(x, plan, 200) / expected, 1.0, 0.03);
}

TEST(Qsgd, ErrorWithinThePublishedBound) {
  // QSGD's Lemma 3.1 (Alistarh et al. 2017): with s levels per sign, E‖Q(v) − v‖² ≤
  // min(n/s², √n/s)·‖v‖² for a bucket of n coordinates. Its grid of 2s + 1 points on [−ν, ν] is
  // ours with S = 2s + 1. One LogNormal bucket of n = 512 (the paper's bucket size), 400
  // rounds: 14.1, 6.70, 2.64 and 1.26 against the bound's 22.6, 11.3, 5.66 and 3.23 (the Monte
  // Carlo mean is within about 1% of the expectation).
  for (unsigned levels : {1u, 2u, 4u, 7u}) {
    const std::vector<float> x = dme::test::lognormal_input(512, 20 + levels);
    double norm2 = 0;
    for (float v : x) norm2 += double(v) * v;
    dme::CompressionPlan plan;
    plan.s = 2 * levels + 1;
    plan.norm_grid = true;
    const double n = 512, bound = std::min(n / (levels * levels), std::sqrt(n) / levels);
    const double err = dme::test::monte_carlo_error(x, plan, 400) / norm2;
    EXPECT_LT(err, bound) << "s = " << levels;
    EXPECT_GT(err, 0.0);
  }
}

TEST(Qsgd, EachBucketSendsOneNorm) {
  // QSGD's own setting: buckets of 512 coordinates, each with its norm (payload kind 5): 4 bits
  // per code and 32 bits per bucket, 4.0625 bits per coordinate with the frame (112 bytes).
  dme::Options o;
  o.scheme = dme::Scheme::kQsgd;
  o.rotations = 0;
  o.s = 16;
  o.bucket_size = 512;
  const std::size_t d = 1 << 16;
  std::vector<float> x = dme::test::lognormal_input(d, 11 + unsigned(dme::test::world_rank()));
  std::vector<float> out(d);
  dme::MeanEstimator est(MPI_COMM_WORLD, o);
  const dme::Report rep = est.estimate(x, out);
  EXPECT_EQ(rep.payload_bytes, 112 + 4 * (d / 512) + d / 2);
  dme::test::expect_unbiased_over_rounds(make_setting(4096, /*identical=*/false), o, 48);
}

TEST(Qsgd, UnbiasedOverRoundsAndExactForZero) {
  dme::Options o;
  o.scheme = dme::Scheme::kQsgd;
  o.rotations = 0;
  o.s = 4;
  dme::test::expect_unbiased_over_rounds(make_setting(4096, /*identical=*/false), o, 48);

  dme::MeanEstimator est(MPI_COMM_WORLD, o);
  std::vector<float> zero(1000, 0.0f), out(1000, 1.0f);
  est.estimate(zero, out);
  for (float v : out) ASSERT_EQ(v, 0.0f);
}

}  // namespace
