// The optimal biased quantizer reaches the brute-force 1-D k-means optimum, and the DP confined
// to the boundary ranges (kmeans1d.cpp) reaches the full-layer DP's.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/rng.h"
#include "dme/quantization/kmeans1d.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;

TEST(Kmeans, PartitionMatchesBruteForceOnRandomSmallCases) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    const Dist dists[] = {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kConstant,
                          Dist::kTwoValues};
    const dme::PhiloxStream pick(12, 0, 0, dme::Purpose::kInput);
    for (std::uint64_t c = 0; c < 2000; ++c) {
      const Dist dist = dists[c % 5];
      const std::size_t d = 1 + pick.bits32(2 * c) % 100;
      const std::size_t s = 2 + pick.bits32(2 * c + 1) % std::max<std::size_t>(1, d - 1);
      const std::vector<float> x = dme::test::sorted_copy(dme::test::make_input(dist, d, 5000 + c));
      const long double opt = dme::test::brute_force_kmeans(x, s);
      const dme::detail::KmeansPartition part = dme::detail::kmeans_partition(x, s);
      const std::string what = std::string(dme::test::dist_name(dist)) + " d=" + std::to_string(d) +
                               " s=" + std::to_string(s);
      // Relative 1e-9, as for QUIVER; the partition's cost is recomputed from the data in long
      // double, so only a wrong partition can miss it.
      ASSERT_LE(part.cost, opt * (1 + 1e-9L) + 1e-30L) << what;
      ASSERT_GE(part.cost, opt * (1 - 1e-9L) - 1e-30L) << what;
      ASSERT_LE(part.ends.size(), s) << what;
      ASSERT_EQ(part.ends.back(), d) << what;

      // The public levels are the float-rounded centroids: their nearest-rounding error may exceed
      // the optimum only by the centroid rounding, at most d·(ulp(max|x|)/2)².
      const std::vector<float> levels = dme::kmeans_levels(x, s);
      ASSERT_LE(levels.size(), s) << what;
      for (std::size_t t = 1; t < levels.size(); ++t) ASSERT_LT(levels[t - 1], levels[t]) << what;
      const long double ulp = std::ldexp(
          1.0L, std::ilogb(std::max(std::fabs(x.front()), std::fabs(x.back())) + 1e-30f) - 23);
      const long double slack = static_cast<long double>(d) * ulp * ulp / 4;
      ASSERT_LE(dme::test::nearest_error(x, levels), opt * (1 + 1e-9L) + slack) << what;
    }
  });
}

TEST(Kmeans, LargeInputIsAtLeastAsGoodAsNeighbouringPartitions) {
  // d = 2^16: the optimum cannot be improved by moving any single cluster boundary by one.
  const std::vector<float> x =
      dme::test::sorted_copy(dme::test::make_input(Dist::kLogNormal, 1 << 16, 8));
  const dme::detail::KmeansPartition part = dme::detail::kmeans_partition(x, 10);
  ASSERT_EQ(part.ends.size(), 10u);
  const auto cost_of = [&](const std::vector<std::size_t>& ends) {
    long double total = 0;
    std::size_t begin = 0;
    for (std::size_t end : ends) {
      long double sum = 0, ss = 0;
      for (std::size_t i = begin; i < end; ++i) sum += x[i];
      const long double mean = sum / (end - begin);
      for (std::size_t i = begin; i < end; ++i) ss += (x[i] - mean) * (x[i] - mean);
      total += ss;
      begin = end;
    }
    return total;
  };
  const long double best = cost_of(part.ends);
  EXPECT_NEAR(static_cast<double>(best), part.cost, 1e-9 * part.cost);
  for (std::size_t c = 0; c + 1 < part.ends.size(); ++c) {
    for (int delta : {-1, 1}) {
      std::vector<std::size_t> moved = part.ends;
      moved[c] += delta;
      EXPECT_GE(cost_of(moved), best * (1 - 1e-12L)) << "boundary " << c << " moved by " << delta;
    }
  }
}

TEST(Kmeans, BoundedLayersReachTheFullLayersOptimum) {
  // Up to d = 30000 with outliers (lognormal tails), repeats (integers, two values) and 3 to 64
  // clusters: the same optimum, and on continuous inputs (no ties between partitions) the same
  // partition. With repeats and more clusters than distinct values (a case kmeans_levels answers
  // without the DP) any split of a run of equal values is optimal, and the two may pick others.
  for (Dist dist :
       {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues, Dist::kUniform})
    for (std::size_t d : {3u, 50u, 600u, 5000u, 30000u})
      for (std::size_t s : {3u, 4u, 9u, 16u, 64u}) {
        const std::vector<float> x =
            dme::test::sorted_copy(dme::test::make_input(dist, d, 77 + d + s));
        const dme::detail::KmeansPartition full = dme::detail::kmeans_partition(x, s, false);
        const dme::detail::KmeansPartition bounded = dme::detail::kmeans_partition(x, s, true);
        const std::string what = std::string(dme::test::dist_name(dist)) +
                                 " d=" + std::to_string(d) + " s=" + std::to_string(s);
        ASSERT_LE(bounded.cost, full.cost * (1 + 1e-12) + 1e-30) << what;
        ASSERT_GE(bounded.cost, full.cost * (1 - 1e-12) - 1e-30) << what;
        if (dist != Dist::kIntegers && dist != Dist::kTwoValues) {
          EXPECT_EQ(bounded.ends, full.ends) << what;
        }
      }
}

}  // namespace
