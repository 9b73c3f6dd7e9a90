// The index ranges of detail/level_bounds.h hold every optimal level position (checked against
// brute-force forward and backward DPs), and the accelerated QUIVER that works inside them
// still reaches the optimum: against brute force at small d with groups of every size, and
// against the unrestricted DP at medium d, outliers and repeats included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/rng.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/asq_dp.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/level_bounds.h"
#include "dme/quantization/quiver.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;
constexpr long double kInf = std::numeric_limits<long double>::infinity();

// Forward F[l][j] (l levels from 0 to j) and backward B[r][j] (r more levels from j to d-1) of
// the plain ASQ DP over the centred points, long double, interval errors summed directly.
struct BruteForce {
  std::vector<std::vector<long double>> f, b;

  BruteForce(const std::vector<double>& x, std::size_t s) {
    const std::size_t d = x.size();
    auto err = [&](std::size_t k, std::size_t j) {
      long double e = 0;
      for (std::size_t t = k + 1; t < j; ++t)
        e += (static_cast<long double>(x[j]) - x[t]) * (static_cast<long double>(x[t]) - x[k]);
      return e;
    };
    std::vector<long double> cost(d * d, 0);
    for (std::size_t k = 0; k < d; ++k)
      for (std::size_t j = k; j < d; ++j) cost[k * d + j] = err(k, j);
    f.assign(s + 1, std::vector<long double>(d, kInf));
    b.assign(s + 1, std::vector<long double>(d, kInf));
    f[1][0] = 0;
    b[0][d - 1] = 0;
    for (std::size_t l = 2; l <= s; ++l)
      for (std::size_t j = 0; j < d; ++j)
        for (std::size_t k = 0; k <= j; ++k)
          f[l][j] = std::min(f[l][j], f[l - 1][k] + cost[k * d + j]);
    for (std::size_t r = 1; r <= s; ++r)
      for (std::size_t j = 0; j < d; ++j)
        for (std::size_t k = j; k < d; ++k)
          b[r][j] = std::min(b[r][j], cost[j * d + k] + b[r - 1][k]);
  }
};

TEST(LevelBounds, EveryOptimalPositionLiesInItsRange) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    const Dist dists[] = {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues,
                          Dist::kUniform};
    // (fine, coarse) group sizes: one pass, or a coarse pass first.
    const std::size_t group_sizes[][2] = {{1, 0}, {2, 0}, {3, 0}, {7, 0}, {16, 0},
                                          {0, 0}, {1, 4}, {2, 9}, {3, 40}};
    const dme::PhiloxStream pick(21, 0, 0, dme::Purpose::kInput);
    int positions = 0;
    for (std::uint64_t c = 0; c < 540; ++c) {
      const Dist dist = dists[c % 5];
      const std::size_t group = group_sizes[(c / 5) % 9][0], coarse = group_sizes[(c / 5) % 9][1];
      const std::size_t d = 2 + pick.bits32(2 * c) % 120;
      const std::size_t s = 3 + pick.bits32(2 * c + 1) % std::min<std::size_t>(d, 18);
      const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, d, c));
      std::vector<double> x(d), u(d);
      dme::detail::chord_arrays(sorted, dme::detail::compensated_mean(sorted), x.data(), u.data());
      const auto ranges = dme::detail::optimal_level_ranges(x.data(), d, s, group, coarse);
      const std::string what = std::string(dme::test::dist_name(dist)) + " d=" + std::to_string(d) +
                               " s=" + std::to_string(s) + " group=" + std::to_string(group) +
                               " coarse=" + std::to_string(coarse);
      ASSERT_EQ(ranges.size(), s + 1) << what;
      EXPECT_EQ(ranges[1].lo, 0u) << what;
      EXPECT_EQ(ranges[s].hi, d - 1) << what;
      const BruteForce bf(x, s);
      const long double opt = bf.f[s][d - 1];
      const long double tie = 1e-15L * (std::abs(opt) + 1e-300L);
      for (std::size_t l = 2; l < s; ++l) {
        ASSERT_LE(ranges[l].lo, ranges[l].hi) << what;
        ASSERT_LT(ranges[l].hi, d) << what;
        for (std::size_t j = 0; j < d; ++j)
          if (bf.f[l][j] + bf.b[s - l][j] <= opt + tie) {
            ++positions;
            EXPECT_GE(j, ranges[l].lo) << what << " level " << l;
            EXPECT_LE(j, ranges[l].hi) << what << " level " << l;
          }
      }
      if (HasFailure()) break;
    }
    EXPECT_GT(positions, 1000);
  });
}

TEST(LevelBounds, AcceleratedWithAnyGroupSizeMatchesBruteForce) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    const Dist dists[] = {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kConstant,
                          Dist::kTwoValues};
    const std::size_t group_sizes[][2] = {{1, 0},  {2, 0}, {3, 0}, {5, 0}, {16, 0},
                                          {64, 0}, {1, 5}, {2, 8}, {3, 30}};
    const dme::PhiloxStream pick(22, 0, 0, dme::Purpose::kInput);
    for (std::uint64_t c = 0; c < 1350; ++c) {
      const Dist dist = dists[c % 5];
      const std::size_t group = group_sizes[(c / 5) % 9][0], coarse = group_sizes[(c / 5) % 9][1];
      const std::size_t d = 1 + pick.bits32(2 * c) % 100;
      const std::size_t s = 2 + pick.bits32(2 * c + 1) % std::max<std::size_t>(1, d - 1);
      const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, d, c));
      const long double opt = dme::test::brute_force_asq(sorted, s);
      const std::vector<float> levels =
          dme::detail::quiver_accelerated_grouped(sorted, s, group, coarse);
      const long double got = dme::test::asq_error(sorted, levels);
      const std::string what = std::string(dme::test::dist_name(dist)) + " d=" + std::to_string(d) +
                               " s=" + std::to_string(s) + " group=" + std::to_string(group) +
                               " coarse=" + std::to_string(coarse);
      EXPECT_LE(got, opt + 1e-9L * opt) << what;
      if (HasFailure()) break;
    }
  });
}

// The unrestricted layered DP (every layer over every candidate), the reference for the ranged
// solvers.
std::vector<float> unrestricted_quiver(const std::vector<float>& sorted, std::size_t s) {
  const std::size_t d = sorted.size();
  std::vector<dme::detail::ChordPoint> p(d);
  dme::detail::chord_points(sorted, dme::detail::compensated_mean(sorted), p.data());
  std::vector<float> levels;
  for (std::size_t t : dme::detail::asq_smawk_indices(dme::detail::AsqCost{p.data()}, d, s))
    levels.push_back(sorted[t]);
  std::sort(levels.begin(), levels.end());
  levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
  return levels;
}

// Medium inputs, where the default groups hold many points each: the ranged DPs (exact and
// accelerated QUIVER) reach the optimum of the unrestricted DP.
TEST(LevelBounds, AcceleratedMatchesExactQuiverAtMediumSizes) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    struct Case {
      Dist dist;
      std::size_t d;
      bool outlier;
    };
    const Case cases[] = {{Dist::kLogNormal, 20000, false}, {Dist::kNormal, 12345, false},
                          {Dist::kUniform, 30000, false},   {Dist::kIntegers, 25000, false},
                          {Dist::kNormal, 16384, true},     {Dist::kLogNormal, 9999, true}};
    for (const Case& cs : cases) {
      std::vector<float> x = dme::test::make_input(cs.dist, cs.d, 40 + cs.d);
      if (cs.outlier) x[cs.d / 2] = 1e6f;  // a far outlier: wide groups, large tolerance
      const std::vector<float> sorted = dme::test::sorted_copy(x);
      for (std::size_t s : {4u, 7u, 16u, 33u}) {
        const std::string what = std::string(dme::test::dist_name(cs.dist)) +
                                 " d=" + std::to_string(cs.d) + " s=" + std::to_string(s) +
                                 (cs.outlier ? " outlier" : "");
        const long double exact = dme::test::asq_error(sorted, unrestricted_quiver(sorted, s));
        const long double ranged = dme::test::asq_error(sorted, dme::quiver_exact(sorted, s));
        EXPECT_NEAR(static_cast<double>(ranged), static_cast<double>(exact),
                    1e-9 * static_cast<double>(exact))
            << what << " quiver";
        const std::size_t groups[][2] = {{0, 0}, {3, 0}, {500, 0}, {4, 100}, {10, 3000}};
        for (const auto& gc : groups) {
          const std::size_t group = gc[0];
          const long double accel = dme::test::asq_error(
              sorted, dme::detail::quiver_accelerated_grouped(sorted, s, gc[0], gc[1]));
          EXPECT_NEAR(static_cast<double>(accel), static_cast<double>(exact),
                      1e-9 * static_cast<double>(exact))
              << what << " group=" << group << " coarse=" << gc[1];
        }
      }
    }
  });
}

}  // namespace
