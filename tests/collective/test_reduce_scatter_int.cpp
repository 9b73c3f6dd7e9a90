// reduce-scatter-int: the mean equals a one-rank computation of the same rounded vectors, its
// error falls as 1/n like allgather's (no re-quantisation floor), and its limits are clear errors.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "dme/collective/mean_estimator.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/quantization/rounding.h"
#include "dme/rotation/rht.h"
#include "scheme_test_support.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::identical_on_all_ranks;
using dme::test::world_rank;
using dme::test::world_size;

dme::Options int_options(std::size_t s, std::uint64_t seed) {
  dme::Options o;
  o.s = s;
  o.exchange = dme::Exchange::kReduceScatterInt;
  o.seed = seed;
  return o;
}

// The exchange's definition, computed by one rank from every rank's input: rotate, agree on
// each chunk's range, take the owner's quiver-apx levels on the grid of 2s points, round every
// rank's chunk to them with its own stream, average the rounded values (in double) and rotate
// back.
// With correlated rounding, rank r's draw of coordinate i is frac(w_i + (r + g_ri) / n), w from
// the shared kCorrelated stream and g from the rank's kRounding stream, and it rounds up when
// draw · (b - a) < x - a.
std::vector<double> one_rank_mean(const std::vector<std::vector<float>>& xs, std::size_t s,
                                  int rotations, std::uint64_t seed, std::uint32_t round,
                                  bool correlated = false, bool uniform = false) {
  const int n = static_cast<int>(xs.size());
  const std::size_t d = xs[0].size();
  const dme::Rotation rot(seed, round, rotations, d, dme::rotation_stream(true, 0),
                          dme::RotationLayout::kOverlapped);  // the CPU backend's auto layout
  const std::size_t D = rot.padded();
  std::vector<std::vector<float>> ys(xs.size(), std::vector<float>(D));
  for (int r = 0; r < n; ++r) rot.forward(xs[r], ys[r]);
  const auto m = static_cast<std::uint32_t>((uniform ? 1 : 2) * s - 1);
  std::vector<double> mean(D, 0.0);
  for (int j = 0; j < n; ++j) {
    const std::size_t a = D * j / n, b = D * (j + 1) / n;
    if (a == b) continue;
    float lo = ys[0][a], hi = ys[0][a];
    for (int r = 0; r < n; ++r)
      for (std::size_t i = a; i < b; ++i) lo = std::min(lo, ys[r][i]), hi = std::max(hi, ys[r][i]);
    if (lo == hi) {
      for (std::size_t i = a; i < b; ++i) mean[i] = lo;
      continue;
    }
    const std::span<const float> own(ys[j].data() + a, b - a);
    std::vector<float> levels;
    std::vector<double> grid;  // thc: every grid point
    for (std::uint32_t g = 0; g <= m; ++g) grid.push_back(g);
    if (!uniform) {
      grid.clear();
      for (float v : dme::quiver_approx_on_grid(own, s, m, lo, hi))
        grid.push_back(std::nearbyint((double(v) - lo) / (double(hi) - lo) * m));
    }
    for (double g : grid)
      levels.push_back(g == 0 ? lo : g == m ? hi : float(lo + (double(hi) - lo) * g / m));
    std::vector<std::uint16_t> codes(b - a);
    const dme::PhiloxStream shared(seed, round, 0, dme::Purpose::kCorrelated);
    for (int r = 0; r < n; ++r) {
      const dme::PhiloxStream stream(seed, round, static_cast<std::uint32_t>(r),
                                     dme::Purpose::kRounding);
      dme::stochastic_round(std::span<const float>(ys[r].data() + a, b - a), levels, stream, a,
                            codes);
      for (std::size_t i = a; i < b && correlated; ++i) {
        const float x = ys[r][i];
        const auto hi = std::upper_bound(levels.begin(), levels.end(), x) - levels.begin();
        if (hi == static_cast<std::ptrdiff_t>(levels.size())) continue;  // the top level
        double u = shared.uniform_float(i) + (r + double(stream.uniform_float(i))) / n;
        if (u >= 1) u -= 1;
        const double lo_level = levels[hi - 1], hi_level = levels[hi];
        codes[i - a] = static_cast<std::uint16_t>(
            u * (hi_level - lo_level) < double(x) - lo_level ? hi : hi - 1);
      }
      for (std::size_t i = a; i < b; ++i) mean[i] += double(levels[codes[i - a]]) / n;
    }
  }
  std::vector<double> x(d);
  rot.inverse(mean, x);
  return x;
}

TEST(ReduceScatterInt, EqualsOneRankComputationOfTheSameRoundedVectors) {
  const int n = world_size();
  for (bool correlated : {false, true})
    for (std::size_t d : {std::size_t(3000), std::size_t(4096), std::size_t(5)}) {
      std::vector<std::vector<float>> xs;
      for (int r = 0; r < n; ++r) xs.push_back(dme::test::lognormal_input(d, 40u + unsigned(r)));
      dme::Options o = int_options(16, 77);
      o.correlated_rounding = correlated;
      dme::MeanEstimator est(MPI_COMM_WORLD, o);
      std::vector<float> out(d);
      for (std::uint32_t round = 0; round < 2; ++round) {
        const dme::Report rep = est.estimate(xs[static_cast<std::size_t>(world_rank())], out);
        EXPECT_TRUE(identical_on_all_ranks(out));
        const std::vector<double> want =
            one_rank_mean(xs, 16, rep.rotations, 77, round, correlated);
        double scale = 0, worst = 0;
        for (std::size_t i = 0; i < d; ++i) {
          scale = std::max(scale, std::abs(want[i]));
          worst = std::max(worst, std::abs(double(out[i]) - want[i]));
        }
        EXPECT_LT(worst, 1e-5 * scale)
            << "d = " << d << ", round " << round << ", correlated " << correlated;
      }
    }
}

TEST(ReduceScatterInt, ExactSolversTakeTheOptimumOnTheGrid) {
  // The levels are grid points; for the exact solvers the owner takes the optimum among grid
  // level sets (the grid DP), not their own levels snapped to the grid. Few values per chunk and
  // more levels than values is where snapping hurt: each snapped level left its value a
  // fraction of a grid step away, rounded against the next value's level (s = 256 erred more
  // than s = 64).
  const int n = world_size();
  const std::size_t d = 40;
  std::vector<std::vector<float>> xs;
  for (int r = 0; r < n; ++r) xs.push_back(dme::test::lognormal_input(d, 60u + unsigned(r)));
  for (dme::Solver solver : {dme::Solver::kQuiver, dme::Solver::kQuiverAccel, dme::Solver::kZipml})
    for (std::size_t s : {std::size_t(4), std::size_t(256)}) {
      dme::Options o = int_options(s, 21);
      o.solver = solver;
      dme::MeanEstimator est(MPI_COMM_WORLD, o);
      std::vector<float> out(d);
      const dme::Report rep = est.estimate(xs[static_cast<std::size_t>(world_rank())], out);
      const std::vector<double> want = one_rank_mean(xs, s, rep.rotations, 21, 0);
      double scale = 0, worst = 0;
      for (std::size_t i = 0; i < d; ++i) {
        scale = std::max(scale, std::abs(want[i]));
        worst = std::max(worst, std::abs(double(out[i]) - want[i]));
      }
      EXPECT_LT(worst, 1e-5 * scale) << dme::solver_name(solver) << ", s = " << s;
    }
}

TEST(ReduceScatterInt, UnbiasedAndSameSeedSameResult) {
  // On identical inputs too (where a re-quantising owner's error would not average out).
  for (bool identical : {false, true})
    dme::test::expect_unbiased_over_rounds(dme::test::make_setting(4096, identical),
                                           int_options(4, 3), 60);
  const auto st = dme::test::make_setting(1000, false);
  std::vector<float> a(st.x.size()), b(st.x.size());
  dme::MeanEstimator e1(MPI_COMM_WORLD, int_options(16, 9)), e2(MPI_COMM_WORLD, int_options(16, 9));
  e1.estimate(st.x, a);
  e2.estimate(st.x, b);
  EXPECT_EQ(a, b);
}

TEST(ReduceScatterInt, ErrorFallsLikeAllgathers) {
  // NMSE over 12 rounds of 2^14 coordinates: its relative spread is a few percent, so 1.3x
  // leaves a wide margin above the ~1.1x of the grid levels (docs/algorithms.md §10.6).
  for (bool identical : {false, true}) {
    const auto st = dme::test::make_setting(1 << 14, identical);
    dme::Options o = int_options(16, 5);
    const double with_int = dme::test::mean_nmse(st, o, 12, nullptr);
    o.exchange = dme::Exchange::kAllgather;
    const double with_allgather = dme::test::mean_nmse(st, o, 12, nullptr);
    EXPECT_LT(with_int, 1.3 * with_allgather) << (identical ? "identical" : "iid");
    EXPECT_GT(with_int, 0.7 * with_allgather) << (identical ? "identical" : "iid");
  }
}

// thc: s uniform levels on the agreed range, summed as integers.
TEST(ReduceScatterInt, ThcEqualsOneRankComputationAndIsUnbiased) {
  const int n = world_size();
  const std::size_t d = 3000;
  std::vector<std::vector<float>> xs;
  for (int r = 0; r < n; ++r) xs.push_back(dme::test::lognormal_input(d, 60u + unsigned(r)));
  dme::Options o = int_options(16, 8);
  o.scheme = dme::Scheme::kThc;
  dme::MeanEstimator est(MPI_COMM_WORLD, o);
  std::vector<float> out(d);
  const dme::Report rep = est.estimate(xs[static_cast<std::size_t>(world_rank())], out);
  EXPECT_TRUE(identical_on_all_ranks(out));
  const std::vector<double> want = one_rank_mean(xs, 16, rep.rotations, 8, 0, false, true);
  double scale = 0, worst = 0;
  for (std::size_t i = 0; i < d; ++i) {
    scale = std::max(scale, std::abs(want[i]));
    worst = std::max(worst, std::abs(double(out[i]) - want[i]));
  }
  EXPECT_LT(worst, 1e-5 * scale);
  for (bool identical : {false, true}) {
    dme::Options u = int_options(4, 3);
    u.scheme = dme::Scheme::kThc;
    dme::test::expect_unbiased_over_rounds(dme::test::make_setting(4096, identical), u, 60);
  }
}

TEST(ReduceScatterInt, CorrelatedRoundingIsUnbiasedAndBelowAllgather) {
  for (bool identical : {false, true}) {
    dme::Options o = int_options(4, 3);
    o.correlated_rounding = true;
    dme::test::expect_unbiased_over_rounds(dme::test::make_setting(4096, identical), o, 60);
  }
  if (world_size() < 2) GTEST_SKIP() << "one rank has nothing to correlate";
  // Measured at d = 2^16, s = 16 (docs/algorithms.md §10.6): iid 1.0x allgather's NMSE at n = 2,
  // 0.87x at 4; identical 0.85x at 2, 0.49x at 4 (falling as 1/n²). Bounds with margin.
  for (bool identical : {false, true}) {
    const auto st = dme::test::make_setting(1 << 14, identical);
    dme::Options o = int_options(16, 5);
    o.correlated_rounding = true;
    const double correlated = dme::test::mean_nmse(st, o, 12, nullptr);
    o.correlated_rounding = false;
    o.exchange = dme::Exchange::kAllgather;
    const double allgather = dme::test::mean_nmse(st, o, 12, nullptr);
    EXPECT_LT(correlated, (identical ? 0.95 : 1.1) * allgather)
        << (identical ? "identical" : "iid");
  }
}

TEST(ReduceScatterInt, NearestRoundingAndConstantChunks) {
  // Identical constant inputs: every chunk has one value and one level; the mean is exact.
  std::vector<float> x(1000, 2.5f), out(1000);
  dme::Options o = int_options(8, 1);
  o.rotations = 0;
  dme::MeanEstimator est(MPI_COMM_WORLD, o);
  est.estimate(x, out);
  for (float v : out) ASSERT_EQ(v, 2.5f);
  o.rounding = dme::Rounding::kNearest;
  o.rotations = 2;
  dme::MeanEstimator nearest(MPI_COMM_WORLD, o);
  const auto st = dme::test::make_setting(777, false);
  std::vector<float> y(777);
  nearest.estimate(st.x, y);
  EXPECT_TRUE(identical_on_all_ranks(y));
  EXPECT_LT(dme::test::sq_dist(y, st.mean) / st.avg_norm2, 0.1);
}

TEST(ReduceScatterInt, LimitsAreClearErrors) {
  const auto msg = [](const dme::Options& o) {
    try {
      dme::validate(o);
    } catch (const dme::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  dme::Options o = int_options(16, 1);
  o.shared_rotation = false;
  EXPECT_NE(msg(o).find("needs a shared rotation"), std::string::npos);
  o = int_options(16, 1);
  o.scheme = dme::Scheme::kEden;
  EXPECT_NE(msg(o).find("asq or thc scheme"), std::string::npos);
  o = int_options(16, 1);
  o.bucket_size = 64;
  EXPECT_NE(msg(o).find("no buckets"), std::string::npos);
  o = int_options(16, 1);
  o.exchange = dme::Exchange::kAllgather;
  o.correlated_rounding = true;
  EXPECT_NE(msg(o).find("needs exchange reduce-scatter-int"), std::string::npos);
  o = int_options(16, 1);
  o.correlated_rounding = true;
  o.rounding = dme::Rounding::kNearest;
  EXPECT_NE(msg(o).find("and stochastic rounding"), std::string::npos);
  o = int_options(16, 1);
  o.scheme = dme::Scheme::kThc;
  o.exchange = dme::Exchange::kAllgather;
  EXPECT_NE(msg(o).find("only exchange reduce-scatter-int provides"), std::string::npos);
  o = int_options(40000, 1);
  o.solver_options.m = 40000;
  EXPECT_NE(msg(o).find("at most 32768"), std::string::npos);
  // n·(2s − 1) + 1 sums must fit a code: with s = 32768 only one rank can; every rank throws.
  if (world_size() > 1) {
    o = int_options(32768, 1);
    o.solver_options.m = 32768;
    dme::MeanEstimator est(MPI_COMM_WORLD, o);
    std::vector<float> x(4096, float(world_rank())), out(4096);
    try {
      est.estimate(x, out);
      ADD_FAILURE() << "expected an error";
    } catch (const dme::Error& e) {
      EXPECT_NE(std::string(e.what()).find("use fewer levels"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
