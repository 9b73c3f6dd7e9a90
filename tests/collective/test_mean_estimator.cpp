#include <gtest/gtest.h>
#include <mpi.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "dme/collective/mean_estimator.h"
#include "dme/core/mpi_helpers.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::identical_on_all_ranks;
using dme::test::world_rank;
using dme::test::world_size;

// Rank r's vector: LogNormal(0,1) draws shifted by r, so the ranks' vectors differ.
std::vector<float> rank_vector(std::size_t d, int rank, unsigned seed = 7) {
  std::mt19937_64 g(seed * 1000 + static_cast<unsigned>(rank));
  std::lognormal_distribution<float> ln(0.0f, 1.0f);
  std::vector<float> v(d);
  for (auto& x : v) x = ln(g) + static_cast<float>(rank);
  return v;
}

std::vector<double> true_mean(std::size_t d, unsigned seed = 7) {
  std::vector<double> m(d, 0.0);
  for (int r = 0; r < world_size(); ++r) {
    auto v = rank_vector(d, r, seed);
    for (std::size_t i = 0; i < d; ++i) m[i] += v[i];
  }
  for (auto& x : m) x /= world_size();
  return m;
}

double squared_distance(const std::vector<float>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

struct Case {
  dme::Exchange exchange;
  dme::Rounding rounding;
};

// Averages T estimates. Unbiased: ‖avg − μ‖² ≈ MSE/T (rounds are independent). A bias b keeps
// ‖avg − μ‖² ≥ ‖b‖² while MSE/T shrinks, so the ratio grows with T.
double bias_ratio(dme::Options opt, std::size_t d, int trials) {
  dme::MeanEstimator est(MPI_COMM_WORLD, opt);
  const auto x = rank_vector(d, world_rank());
  const auto mu = true_mean(d);
  std::vector<float> out(d);
  std::vector<double> avg(d, 0.0);
  double mse = 0;
  for (int t = 0; t < trials; ++t) {
    est.estimate(x, out);
    EXPECT_TRUE(identical_on_all_ranks(out));
    mse += squared_distance(out, mu) / trials;
    for (std::size_t i = 0; i < d; ++i) avg[i] += out[i] / double(trials);
  }
  std::vector<float> avgf(avg.begin(), avg.end());
  double err = 0;
  for (std::size_t i = 0; i < d; ++i) err += (avg[i] - mu[i]) * (avg[i] - mu[i]);
  return err / (mse / trials);
}

// The ratio test of opt on every exchange, d = 1000 coordinates, 150 rounds: for an unbiased
// estimator the ratio is a normalised sum of ~1000 squared errors with mean 1 and a spread of a
// few tenths; 2.0 leaves a wide margin.
void expect_unbiased_on_every_exchange(dme::Options opt) {
  for (auto ex : {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast,
                  dme::Exchange::kReduceScatter, dme::Exchange::kReduceScatterInt}) {
    opt.exchange = ex;
    const double ratio = bias_ratio(opt, 1000, 150);
    EXPECT_LT(ratio, 2.0) << dme::exchange_name(ex);
    EXPECT_GT(ratio, 0.3) << dme::exchange_name(ex);
  }
}

TEST(MeanEstimator, UnbiasedForEveryExchange) {
  dme::Options opt;
  opt.s = 4;
  opt.seed = 11;
  expect_unbiased_on_every_exchange(opt);
}

TEST(MeanEstimator, BiasedRoundingIsDetectedByTheSameTest) {
  // The test above has power: nearest rounding with few levels leaves a bias that dominates.
  dme::Options opt;
  opt.s = 4;
  opt.rotations = 0;
  opt.solver = dme::Solver::kRtn;
  opt.seed = 3;
  EXPECT_GT(bias_ratio(opt, 1000, 150), 5.0);
}

TEST(MeanEstimator, PerRankRotationsAreUnbiasedToo) {
  dme::Options opt;
  opt.s = 8;
  opt.shared_rotation = false;
  opt.seed = 5;
  EXPECT_LT(bias_ratio(opt, 777, 100), 2.0);
}

TEST(MeanEstimator, AwkwardSizesAndLevelCounts) {
  for (std::size_t d :
       {std::size_t(1), std::size_t(3), std::size_t(7), std::size_t(1000), std::size_t(4097)})
    for (std::size_t s : {std::size_t(2), std::size_t(10), std::size_t(256)})
      for (auto ex : {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast,
                      dme::Exchange::kReduceScatter, dme::Exchange::kReduceScatterInt}) {
        dme::Options opt;
        opt.s = s;
        opt.exchange = ex;
        opt.solver = s > 64 ? dme::Solver::kQuiverApx : dme::Solver::kQuiver;
        opt.solver_options.m = std::max<std::size_t>(400, s);
        opt.rotations = d % 2 ? 1 : 2;
        dme::MeanEstimator est(MPI_COMM_WORLD, opt);
        const auto x = rank_vector(d, world_rank(), 9);
        std::vector<float> out(d);
        auto r = est.estimate(x, out);
        EXPECT_TRUE(identical_on_all_ranks(out)) << d << " " << s;
        for (float v : out) ASSERT_TRUE(std::isfinite(v));
        // Deterministic bound: each rank's rotated coordinate moves by at most the range of its
        // rotated vector, ≤ 2‖x_r‖; reduce-scatter re-quantises once more. So
        // ‖est − μ‖ ≤ 2 · sqrt(D) · 2 · max_r ‖x_r‖.
        const auto mu = true_mean(d, 9);
        double local_norm = 0;
        for (float v : x) local_norm += double(v) * v;
        double max_norm = 0;
        local_norm = std::sqrt(local_norm);
        MPI_Allreduce(&local_norm, &max_norm, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        const double bound = 4.0 * std::sqrt(double(r.rotations ? std::bit_ceil(d) : d)) * max_norm;
        EXPECT_LT(std::sqrt(squared_distance(out, mu)), bound) << d << " " << s;
        EXPECT_EQ(r.rotations, opt.rotations);
        // reduce-scatter-int sends nothing for a chunk of one value (d = 1 on one rank).
        if (ex != dme::Exchange::kReduceScatterInt || d > 1 || world_size() > 1) {
          EXPECT_GT(r.payload_bytes, 0u);
        }
      }
}

TEST(MeanEstimator, SingleRankReturnsQuantisedOwnVector) {
  if (world_size() != 1) GTEST_SKIP() << "single-rank property";
  const std::size_t d = 5000;
  dme::Options opt;
  opt.s = 8;
  opt.rotations = 0;
  opt.solver = dme::Solver::kQuiver;
  dme::MeanEstimator est(MPI_COMM_WORLD, opt);
  const auto x = rank_vector(d, 0);
  std::vector<float> out(d);
  est.estimate(x, out);
  std::set<float> distinct(out.begin(), out.end());
  EXPECT_LE(distinct.size(), 8u);
  // Each value went to one of its two neighbouring levels.
  std::vector<float> levels(distinct.begin(), distinct.end());
  for (std::size_t i = 0; i < d; ++i) {
    auto hi = std::lower_bound(levels.begin(), levels.end(), x[i]);
    ASSERT_NE(hi, levels.end());
    const float up = *hi, down = hi == levels.begin() ? *hi : *(hi - 1);
    ASSERT_TRUE(out[i] == up || out[i] == down) << i;
  }
}

TEST(MeanEstimator, SameSeedSameResultAndRoundsAdvance) {
  const std::size_t d = 3000;
  dme::Options opt;
  opt.seed = 99;
  const auto x = rank_vector(d, world_rank());
  std::vector<float> a(d), b(d), c(d);
  dme::MeanEstimator e1(MPI_COMM_WORLD, opt), e2(MPI_COMM_WORLD, opt);
  auto r1 = e1.estimate(x, a);
  e2.estimate(x, b);
  EXPECT_EQ(a, b);
  auto r2 = e1.estimate(x, c);
  EXPECT_NE(a, c);
  EXPECT_EQ(r1.round + 1, r2.round);
}

TEST(MeanEstimator, BytesOnTheWireNearDTimesBitsOverEight) {
  const std::size_t d = 1 << 16;
  dme::Options opt;
  opt.s = 16;  // 4 bits per coordinate
  opt.rotations = 1;
  dme::MeanEstimator est(MPI_COMM_WORLD, opt);
  const auto x = rank_vector(d, world_rank());
  std::vector<float> out(d);
  auto r = est.estimate(x, out);
  const double ideal = d * 4.0 / 8.0;
  // Headers and the 16 levels are well under 1 KiB; the codes must be within 2% of d·b/8.
  EXPECT_LT(double(r.payload_bytes), ideal * 1.02 + 1024);
  EXPECT_GE(double(r.payload_bytes), ideal);
  EXPECT_NEAR(r.compression_ratio, 8.0, 0.2);
  if (world_size() > 1) {
    EXPECT_EQ(r.payload_bytes_sent, r.payload_bytes * (world_size() - 1));
  }
}

// The overlapped rotation layout sends exactly d coordinates (no padding) and stays unbiased;
// the CUDA backend refuses it.
TEST(MeanEstimator, OverlappedLayoutSendsDCoordinates) {
  const std::size_t d = (std::size_t(1) << 16) + 1;
  dme::Options opt;
  opt.seed = 17;
  opt.rotation_layout = dme::RotationLayout::kOverlapped;
  dme::MeanEstimator est(MPI_COMM_WORLD, opt);
  const auto x = rank_vector(d, world_rank(), 12);
  std::vector<float> out(d);
  const dme::Report r = est.estimate(x, out);
  EXPECT_TRUE(identical_on_all_ranks(out));
  EXPECT_LE(r.bits_per_coordinate, 4.05);  // 4 bits at s = 16, and one header
  opt.rotation_layout = dme::RotationLayout::kPadded;
  dme::MeanEstimator padded(MPI_COMM_WORLD, opt);
  EXPECT_GT(padded.estimate(x, out).bits_per_coordinate, 7.9);  // D = 2^17: twice the codes
  opt.rotation_layout = dme::RotationLayout::kOverlapped;
  opt.s = 4;
  EXPECT_LT(bias_ratio(opt, 1000, 150), 2.0);
  opt.backend = dme::Backend::kCuda;
  EXPECT_THROW(dme::validate(opt), dme::Error);
}

// Rotation blocks (Options::rotation_block): exactly d coordinates, unbiased on every exchange,
// bad blocks and backends without them refused, and part of the options the ranks agree on.
TEST(MeanEstimator, RotationBlocksAreUnbiasedOnEveryExchange) {
  {
    dme::Options opt;
    opt.s = 4;
    opt.seed = 23;
    opt.rotation_block = 256;  // d = 1000: three whole blocks and the tail block [744, 1000)
    expect_unbiased_on_every_exchange(opt);
  }
  const std::size_t d = (std::size_t(1) << 16) + 1;
  dme::Options opt;
  opt.rotation_block = 4096;
  dme::MeanEstimator est(MPI_COMM_WORLD, opt);
  const auto x = rank_vector(d, world_rank(), 12);
  std::vector<float> out(d);
  EXPECT_LE(est.estimate(x, out).bits_per_coordinate, 4.05);
  EXPECT_TRUE(identical_on_all_ranks(out));
  dme::Options other = opt;
  other.rotation_block = 8192;
  EXPECT_NE(dme::options_fingerprint(opt), dme::options_fingerprint(other));
  for (std::size_t bad : {std::size_t(1000), std::size_t(128)}) {
    other.rotation_block = bad;
    EXPECT_THROW(dme::validate(other), dme::Error) << bad;
  }
  other = opt;
  other.rotation_layout = dme::RotationLayout::kPadded;
  EXPECT_THROW(dme::validate(other), dme::Error);
  other = opt;
  other.backend = dme::Backend::kCuda;
  EXPECT_THROW(dme::validate(other), dme::Error);
}

TEST(MeanEstimator, AutoRotationsAgreeAcrossRanks) {
  const std::size_t d = 4096;
  std::vector<float> x(d, 0.0f);
  if (world_rank() == world_size() - 1) {
    x[3] = 1.0f;  // one-hot: needs two RHTs
  } else {
    x = rank_vector(d, world_rank());
  }
  dme::Options opt;
  opt.rotations = dme::kAutoRotations;
  dme::MeanEstimator est(MPI_COMM_WORLD, opt);
  std::vector<float> out(d);
  auto r = est.estimate(x, out);
  EXPECT_EQ(r.rotations, 2);
  EXPECT_TRUE(identical_on_all_ranks(out));
}

TEST(MeanEstimator, BucketsHaveTheirOwnLevels) {
  const std::size_t d = 10000;
  dme::Options opt;
  opt.s = 4;
  opt.bucket_size = 512;
  opt.seed = 8;
  EXPECT_LT(bias_ratio(opt, d, 40), 2.0);
}

}  // namespace
