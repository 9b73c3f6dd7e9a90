// QSGD (Options::scheme = kQsgd): stochastic rounding to the s-point grid on [-‖x‖₂, ‖x‖₂]. One
// vector's error against its closed form Σ Δ²f(1−f), Δ = 2‖x‖/(s−1), by Monte Carlo; no bias
// over rounds; a zero vector stays exactly zero.
#include <gtest/gtest.h>
#include <mpi.h>

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
  dme::PayloadHeader h;
  h.d = h.padded = h.count = x.size();
  h.s = s;
  dme::CompressionPlan plan;
  plan.s = s;
  plan.norm_grid = true;
  dme::detail::CompressScratch scratch;
  dme::PhaseTimes times;
  std::vector<std::byte> payload;
  double total = 0;
  constexpr int kRounds = 200;
  for (int r = 0; r < kRounds; ++r) {
    h.round = static_cast<std::uint32_t>(r);
    const dme::PhiloxStream stream(h.seed, h.round, h.rank, dme::Purpose::kRounding);
    dme::detail::compress_chunk(x, h, plan, stream, scratch, payload, times);
    std::vector<double> est(x.size(), 0.0);
    dme::decode_accumulate(payload, {}, std::span<double>(est));
    for (std::size_t i = 0; i < x.size(); ++i) total += (est[i] - x[i]) * (est[i] - x[i]);
  }
  EXPECT_NEAR(total / kRounds / expected, 1.0, 0.03);
}

TEST(Qsgd, UnbiasedOverRoundsAndExactForZero) {
  const Setting st = make_setting(4096, /*identical=*/false);
  dme::Options o;
  o.scheme = dme::Scheme::kQsgd;
  o.rotations = 0;
  o.s = 4;
  constexpr int kRounds = 48;
  std::vector<double> average;
  const double per_round = mean_nmse(st, o, kRounds, &average);
  double avg_err = 0;
  for (std::size_t i = 0; i < average.size(); ++i)
    avg_err += (average[i] - st.mean[i]) * (average[i] - st.mean[i]);
  avg_err /= st.avg_norm2;
  EXPECT_LT(avg_err, 3 * per_round / kRounds) << "per round " << per_round;
  EXPECT_GT(avg_err, 0.2 * per_round / kRounds) << "the rounds' errors are independent";

  dme::MeanEstimator est(MPI_COMM_WORLD, o);
  std::vector<float> zero(1000, 0.0f), out(1000, 1.0f);
  est.estimate(zero, out);
  for (float v : out) ASSERT_EQ(v, 0.0f);
}

}  // namespace
