// Approximate QUIVER: within the bound of docs/algorithms.md §5.3, converging to the optimum as
// m grows, and exact over its grid (the same result as ZipML-CP Unif's brute-force DP on that
// grid).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/level_set.h"
#include "dme/quantization/quiver.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/quantization/solver.h"
#include "dme/quantization/zipml.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;

TEST(QuiverApprox, WithinTheBoundOfTheExactOptimum) {
  // With 2s - 2 levels the grid brackets each optimal level with two grid points, so
  //   apx(2s - 2) <= opt(s) + d·(max - min)²/(4m²)        (docs/algorithms.md §5.3)
  // and, the grid being a subset of the reals, apx(s) >= opt(s) (levels at data points are
  // optimal among all level sets).
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kUniform}) {
    const std::vector<float> x = dme::test::make_input(dist, 20000, 31);
    const std::vector<float> sorted = dme::test::sorted_copy(x);
    const long double range = static_cast<long double>(sorted.back()) - sorted.front();
    for (std::size_t s : {4u, 8u, 16u}) {
      const long double opt = dme::test::asq_error(sorted, dme::quiver_exact(sorted, s));
      for (std::size_t m : {16u, 64u, 400u}) {
        if (m < 2 * s) {
          continue;
        }
        const long double bound = 20000 * range * range / (4.0L * m * m);
        const long double apx2 = dme::test::asq_error(sorted, dme::quiver_approx(x, 2 * s - 2, m));
        EXPECT_LE(apx2, opt + bound) << dme::test::dist_name(dist) << " s=" << s << " m=" << m;
        const long double apx = dme::test::asq_error(sorted, dme::quiver_approx(x, s, m));
        EXPECT_GE(apx, opt * (1 - 1e-9L)) << dme::test::dist_name(dist) << " s=" << s;
      }
    }
  }
}

TEST(QuiverApprox, TendsToTheOptimumAsTheGridRefines) {
  // Grids of m and 2m intervals are nested, so the error cannot grow from m to 2m (up to
  // rounding); at m = 25600 it is within 0.1% of the optimum.
  const std::vector<float> x = dme::test::make_input(Dist::kLogNormal, 50000, 41);
  const std::vector<float> sorted = dme::test::sorted_copy(x);
  const long double opt = dme::test::asq_error(sorted, dme::quiver_accelerated(sorted, 16));
  long double previous = 0;
  for (std::size_t m = 25; m <= 25600; m *= 2) {
    const long double err = dme::test::asq_error(sorted, dme::quiver_approx(x, 16, m));
    if (m > 25) {
      EXPECT_LE(err, previous * (1 + 1e-9L)) << "m=" << m;
    }
    previous = err;
  }
  EXPECT_LE(previous, opt * 1.001L);
}

TEST(QuiverApprox, ExactOverItsGridLikeZipmlCpUnif) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    // SMAWK on the grid and ZipML-CP Unif's brute-force DP on the same grid reach the same error.
    for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers}) {
      const std::vector<float> x = dme::test::make_input(dist, 3000, 51);
      const std::vector<float> sorted = dme::test::sorted_copy(x);
      for (std::size_t s : {2u, 3u, 5u, 16u}) {
        for (std::size_t m : {16u, 100u, 257u}) {
          const long double a = dme::test::asq_error(sorted, dme::quiver_approx(x, s, m));
          const long double b = dme::test::asq_error(sorted, dme::zipml_cp_uniform(x, s, m));
          EXPECT_NEAR(static_cast<double>(a), static_cast<double>(b), 1e-9 * static_cast<double>(b))
              << dme::test::dist_name(dist) << " s=" << s << " m=" << m;
        }
      }
    }
  });
}

TEST(QuiverApprox, ManyLevelsTakeEveryBorderingGridLevel) {
  // With s above the number of grid levels that border a nonempty bin, those levels are the
  // optimum over the grid (the DP is skipped): the same error as ZipML-CP Unif's brute force,
  // and as all m + 1 grid levels together.
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers}) {
    const std::vector<float> x = dme::test::make_input(dist, 40, 53);
    const std::vector<float> sorted = dme::test::sorted_copy(x);
    const std::size_t m = 100;
    const auto grid = dme::detail::grid_statistics(x, sorted.front(), sorted.back(), m);
    ASSERT_LE(grid.bordering.size() + 2, 90u);
    const long double all = dme::test::asq_error(sorted, grid.level);
    for (std::size_t s : {grid.bordering.size() + 2, std::size_t{90}}) {
      // s may exceed d = 40, where quiver_approx returns the values: the grid's optimum here.
      const std::vector<float> levels =
          dme::quiver_approx_on_grid(x, s, m, sorted.front(), sorted.back());
      EXPECT_LE(levels.size(), s);
      if (s > x.size()) {
        EXPECT_EQ(dme::quiver_approx(x, s, m), dme::detail::distinct_sorted(sorted));
      }
      const long double a = dme::test::asq_error(sorted, levels);
      const long double b = dme::test::asq_error(sorted, dme::zipml_cp_uniform(x, s, m));
      EXPECT_NEAR(static_cast<double>(a), static_cast<double>(b),
                  1e-9 * static_cast<double>(b) + 1e-30)
          << dme::test::dist_name(dist) << " s=" << s;
      EXPECT_NEAR(static_cast<double>(a), static_cast<double>(all),
                  1e-9 * static_cast<double>(all) + 1e-30)
          << dme::test::dist_name(dist) << " s=" << s;
    }
  }
}

// The chord points of g against a direct binning of x: each value in the first level at or above
// it, u[t] = α_t·level_t - β_t from the cumulative counts and (centred) sums.
void expect_points_of_direct_binning(const std::vector<float>& x,
                                     const dme::detail::GridStatistics& g) {
  const std::size_t bins = g.level.size();
  std::vector<double> count(bins, 0), sum(bins, 0);
  for (float v : x) {
    const std::size_t t = static_cast<std::size_t>(
        std::lower_bound(g.level.begin(), g.level.end(), v) - g.level.begin());
    count[t] += 1;
    sum[t] += static_cast<double>(v) - g.shift;
  }
  double alpha = 0, beta = 0;
  for (std::size_t t = 0; t < bins; ++t) {
    alpha += count[t];
    beta += sum[t];
    const double v = static_cast<double>(g.level[t]) - g.shift;
    ASSERT_NEAR(g.points[t].u, alpha * v - beta,
                1e-9 * (std::fabs(alpha * v) + std::fabs(beta)) + 1e-300)
        << "bin " << t;
  }
  std::vector<std::uint32_t> bordering;
  for (std::size_t t = 0; t < bins; ++t)
    if (count[t] > 0) {
      if (t > 0 && (bordering.empty() || bordering.back() != t - 1))
        bordering.push_back(static_cast<std::uint32_t>(t - 1));
      bordering.push_back(static_cast<std::uint32_t>(t));
    }
  EXPECT_EQ(g.bordering, bordering);
  EXPECT_EQ(alpha, static_cast<double>(x.size()));
}

TEST(QuiverApprox, GridStatisticsMatchDirectBinning) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    // Every value counted once, in the first grid level at or above it (vector and scalar paths).
    std::vector<float> x = dme::test::make_input(Dist::kNormal, 10007, 61);
    const float lo = *std::min_element(x.begin(), x.end()),
                hi = *std::max_element(x.begin(), x.end());
    const std::size_t m = 97;
    const dme::detail::GridStatistics g = dme::detail::grid_statistics(x, lo, hi, m);
    // Values exactly on grid levels stress the boundary rule.
    for (std::size_t i = 0; i < x.size(); i += 13) x[i] = g.level[(i / 13) % (m + 1)];
    const dme::detail::GridStatistics h = dme::detail::grid_statistics(x, lo, hi, m);
    ASSERT_NO_FATAL_FAILURE(expect_points_of_direct_binning(x, h));
  });
}

// The vector binning decides most values from the float estimate alone and checks only those
// near a bin edge: values on, just below and just above every level of grids near zero, far
// from it (where the shortcut is off) and a few ulps wide must all land where the scalar rule
// (first level at or above) puts them.
TEST(QuiverApprox, GridBinningExactAtEveryEdge) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    struct Case {
      float lo, hi;
      std::size_t m;
    };
    std::vector<Case> cases = {{-3.1f, 2.7f, 400},    {0.0f, 1.0f, 97},
                               {-1e-3f, 5e-4f, 4096}, {1000.0f, 1001.5f, 400},
                               {-2.5e6f, 1e-3f, 400}, {1.0f, 1.0000005f, 400},
                               {-7.0f, 9.0f, 1},      {5e-30f, 6e-30f, 257}};
    const dme::PhiloxStream draws(5, 0, 0, dme::Purpose::kInput);
    for (std::uint64_t k = 0; k < 60; ++k) {  // random grids: ranges of all scales and offsets
      const float a =
          std::ldexp(2.0f * draws.uniform_float(3 * k) - 1.0f, static_cast<int>(k % 13) - 6);
      const float w =
          std::ldexp(draws.uniform_float(3 * k + 1) + 0.01f, static_cast<int>(k % 7) - 3);
      cases.push_back(
          {a, a + w, 1 + static_cast<std::size_t>(draws.uniform_float(3 * k + 2) * 2000)});
    }
    for (const Case& c : cases) {
      std::vector<float> x = dme::test::make_input(Dist::kNormal, 3001, 17);
      for (float& v : x) v = c.lo + (c.hi - c.lo) * (0.5f + 0.15f * v);  // mostly inside
      const dme::detail::GridStatistics g0 =
          dme::detail::grid_statistics(std::vector<float>{c.lo, c.hi}, c.lo, c.hi, c.m);
      for (float level : g0.level)
        for (float v : {std::nextafter(level, -INFINITY), level, std::nextafter(level, INFINITY)})
          x.push_back(v);
      for (float& v : x) v = std::clamp(v, c.lo, c.hi);
      const dme::detail::GridStatistics h = dme::detail::grid_statistics(x, c.lo, c.hi, c.m);
      ASSERT_TRUE(h.contained);
      const std::vector<std::uint32_t> bins = dme::detail::grid_bins(x, c.lo, c.hi, c.m);
      for (std::size_t i = 0; i < x.size(); ++i)
        ASSERT_EQ(bins[i], std::lower_bound(h.level.begin(), h.level.end(), x[i]) - h.level.begin())
            << "grid [" << c.lo << ", " << c.hi << "] m=" << c.m << " x=" << x[i];
      SCOPED_TRACE(testing::Message() << "grid [" << c.lo << ", " << c.hi << "] m=" << c.m);
      ASSERT_NO_FATAL_FAILURE(expect_points_of_direct_binning(x, h));
    }
  });
}

TEST(QuiverApprox, BadArguments) {
  const std::vector<float> x = dme::test::make_input(Dist::kNormal, 100, 1);
  EXPECT_THROW(dme::quiver_approx(x, 16, 15), dme::Error);  // m < s
  EXPECT_THROW(dme::quiver_approx(x, 1, 400), dme::Error);
  EXPECT_THROW(dme::quiver_approx(std::vector<float>{}, 4, 400), dme::Error);
  EXPECT_EQ(dme::quiver_approx(std::vector<float>(10, 2.0f), 4, 400), std::vector<float>{2.0f});
}

// The overload for a known range (the rotation's extremes) equals the scanning one, and rejects
// values it does not hold.
TEST(QuiverApprox, KnownRangeEqualsTheScan) {
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal})
    for (std::size_t d : {1u, 17u, 1000u, 4097u}) {
      const std::vector<float> x = dme::test::make_input(dist, d, 7 + d);
      const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
      for (std::size_t s : {2u, 4u, 16u, 32u})  // 32: d = 17 takes the values themselves
        EXPECT_EQ(dme::quiver_approx(x, s, 400, *lo, *hi), dme::quiver_approx(x, s, 400))
            << "d=" << d << " s=" << s;
    }
  std::vector<float> x = dme::test::make_input(Dist::kNormal, 1000, 3);
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  const float a = *lo, b = *hi;
  // A wider range is allowed (its grid just covers more); a narrower one is an error.
  EXPECT_NO_THROW(dme::quiver_approx(x, 8, 400, a - 1.0f, b + 1.0f));
  try {
    dme::quiver_approx(x, 8, 400, a, 0.5f * b);
    ADD_FAILURE() << "no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("outside the given range"), std::string::npos) << e.what();
  }
  x[123] = std::nanf("");
  try {
    dme::quiver_approx(x, 8, 400, a, b);
    ADD_FAILURE() << "no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x[123]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(dme::quiver_approx(std::vector<float>{}, 4, 400, 0.0f, 1.0f), dme::Error);
  EXPECT_THROW(dme::quiver_approx(x, 4, 400, 1.0f, 0.0f), dme::Error);
  EXPECT_THROW(dme::quiver_approx(x, 4, 400, 0.0f, INFINITY), dme::Error);
  // At most s values (the values themselves are the levels): the range is still checked.
  const std::vector<float> few = {0.5f, -2.0f, 3.0f};
  EXPECT_THROW(dme::quiver_approx(few, 4, 400, -2.0f, 2.0f), dme::Error);
  EXPECT_THROW(dme::quiver_approx_on_grid(few, 4, 400, -1.0f, 3.0f), dme::Error);
  EXPECT_THROW(dme::quiver_approx_on_grid(few, 4, 400, 1.0f, 1.0f), dme::Error);
}

// At most s values: their distinct values are the optimum of every unbiased solver (zero error),
// which quiver-apx, alq and amq return instead of s grid levels or a slow descent; the grid
// variant (for reduce-scatter-int) keeps grid points and the grid's optimum.
TEST(QuiverApprox, AtMostSValuesAreTheirOwnLevels) {
  for (std::size_t d : {2u, 5u, 16u, 64u}) {
    std::vector<float> x = dme::test::make_input(Dist::kNormal, d, 11 + d);
    x[d / 2] = x[0];  // a repeat
    x[d - 1] = -0.0f;
    if (d > 2) x[1] = 0.0f;  // both zeros: one level
    const std::vector<float> sorted = dme::test::sorted_copy(x);
    const std::vector<float> values = dme::detail::distinct_sorted(sorted);
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    for (std::size_t s : {d, 2 * d, std::size_t{256}}) {
      const std::size_t m = std::max<std::size_t>(400, s);
      const std::string where = "d=" + std::to_string(d) + " s=" + std::to_string(s);
      EXPECT_EQ(dme::quiver_approx(x, s, m), values) << where;
      EXPECT_EQ(dme::quiver_approx(x, s, m, *lo, *hi), values) << where;
      EXPECT_EQ(dme::solve_levels(x, s, dme::Solver::kAlq), values) << where;
      EXPECT_EQ(dme::solve_levels(x, s, dme::Solver::kAmq), values) << where;
      EXPECT_EQ(dme::test::asq_error(sorted, values), 0.0L) << where;
      const std::vector<float> grid = dme::detail::grid_levels(*lo, *hi, m);
      for (float v : dme::quiver_approx_on_grid(x, s, m, *lo, *hi))
        EXPECT_TRUE(std::binary_search(grid.begin(), grid.end(), v)) << where << " level " << v;
    }
    // One value more than levels: the grid's levels, at most s of them.
    if (d > 2) {
      EXPECT_LE(dme::quiver_approx(x, d - 1, 400).size(), d - 1);
    }
  }
}

}  // namespace

TEST(QuiverApprox, TinyRangeNearUnderflowStaysFinite) {
  // m / (max - min) overflows float here; the solver must still bracket the input.
  std::vector<float> x = {0.0f, 1e-44f, 3e-45f, 0.0f, 1e-44f};
  const auto levels = dme::solve_levels(x, 4, dme::Solver::kQuiverApx);
  ASSERT_FALSE(levels.empty());
  EXPECT_LE(levels.front(), 0.0f);
  EXPECT_GE(levels.back(), 1e-44f);
  for (float l : levels) EXPECT_TRUE(std::isfinite(l));
}
