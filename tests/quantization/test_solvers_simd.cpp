// The solvers and their scan kernels under every SIMD target (core/simd.h): the exact solvers
// (quiver, quiver-accel, k-means) and quiver-apx return bit-identical levels on every target, and
// so do the kernels under them (range scan, compensated mean, the histogram's bins and sums), at
// sizes that leave every kind of vector tail.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/input_scan.h"
#include "dme/quantization/kmeans1d.h"
#include "dme/quantization/quiver.h"
#include "dme/quantization/quiver_approx.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;
namespace dd = dme::detail;

// The reference every target is compared with: the last one available, Highway's scalar target
// where the build has it (x86; aarch64 builds start at NEON).
std::string reference_target() {
  return dme::simd_targets_available().back();
}

std::vector<std::uint64_t> bits(const std::vector<float>& v) {
  std::vector<std::uint64_t> b;
  for (float x : v) b.push_back(std::bit_cast<std::uint32_t>(x));
  return b;
}

std::vector<std::uint64_t> bits(const std::vector<double>& v) {
  std::vector<std::uint64_t> b;
  for (double x : v) b.push_back(std::bit_cast<std::uint64_t>(x));
  return b;
}

// Everything the solvers return for one input, as bit patterns.
std::vector<std::vector<std::uint64_t>> solve_all(const std::vector<float>& x,
                                                  const std::vector<float>& sorted) {
  std::vector<std::vector<std::uint64_t>> r;
  for (std::size_t s : {2u, 3u, 4u, 7u, 16u}) {
    r.push_back(bits(dme::quiver_exact(sorted, s)));
    r.push_back(bits(dme::quiver_accelerated(sorted, s)));
    r.push_back(bits(dme::kmeans_levels(sorted, s)));
    r.push_back(bits(dme::quiver_approx(x, s, 4 * s + 3)));
  }
  return r;
}

TEST(SolversSimd, EveryTargetReturnsTheReferenceLevels) {
  for (Dist dist :
       {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kTwoValues, Dist::kUniform})
    for (std::size_t d : {1u, 5u, 31u, 257u, 4099u, 70001u}) {
      const std::vector<float> x = dme::test::make_input(dist, d, d + 7);
      const std::vector<float> sorted = dme::test::sorted_copy(x);
      dme::set_simd_target(reference_target());
      const auto want = solve_all(x, sorted);
      dme::test::for_each_simd_target([&](const std::string&) {
        EXPECT_EQ(solve_all(x, sorted), want) << dme::test::dist_name(dist) << " d = " << d;
      });
    }
}

// The histogram pass says whether every value lies in the given [lo, hi]: one value outside (a
// step, part of a bin or more below lo or above hi, far away), a NaN or an infinity, at every
// position of a few vectors and of the tail, makes it false on every target; values equal to lo
// and hi do not.
TEST(SolversSimd, HistogramFindsEveryValueOutsideTheRange) {
  std::vector<float> bad = {std::nextafter(-1.0f, -2.0f),
                            std::nextafter(2.0f, 3.0f),
                            std::nanf(""),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            -1e30f,
                            1e30f};
  for (float bins : {7.0f, 400.0f})  // 0.37 and 1.5 bins of each grid below out
    for (float f : {0.37f, 1.5f})
      bad.insert(bad.end(), {-1.0f - 3.0f * f / bins, 2.0f + 3.0f * f / bins});
  dme::test::for_each_simd_target([&](const std::string&) {
    for (std::size_t d : {1u, 17u, 70u}) {
      std::vector<float> x = dme::test::make_input(Dist::kUniform, d, d);
      for (float& v : x) v = -1.0f + 3.0f * (v - std::floor(v));  // inside [-1, 2)
      x[0] = -1.0f;
      x[d - 1] = 2.0f;
      for (std::size_t m : {7u, 400u})
        ASSERT_TRUE(dd::grid_statistics(x, -1.0f, 2.0f, m).contained) << "d=" << d;
      for (std::size_t at = 0; at < d; ++at)
        for (float v : bad) {
          const float keep = x[at];
          x[at] = v;
          for (std::size_t m : {7u, 400u})
            ASSERT_FALSE(dd::grid_statistics(x, -1.0f, 2.0f, m).contained)
                << "d=" << d << " at=" << at << " value=" << v << " m=" << m;
          x[at] = keep;
        }
    }
  });
}

TEST(SolversSimd, KernelsEqualTheReferenceTarget) {
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kUniform})
    for (std::size_t d : {1u, 2u, 15u, 16u, 17u, 63u, 1000u, 100003u}) {
      const std::vector<float> x = dme::test::make_input(dist, d, d + 3);
      const auto run = [&] {
        std::vector<std::vector<std::uint64_t>> r;
        const dme::Extrema<float> range = dd::scan_input(x, "test");
        r.push_back(bits(std::vector<float>{range.min, range.max}));
        r.push_back(bits(std::vector<double>{dd::compensated_mean(x)}));
        if (range.min < range.max)
          for (std::size_t m : {1u, 7u, 400u, 5000u}) {
            const dd::GridStatistics g = dd::grid_statistics(x, range.min, range.max, m);
            EXPECT_TRUE(g.contained);
            std::vector<double> points;
            for (const dd::ChordPoint& p : g.points) points.insert(points.end(), {p.x, p.u});
            r.push_back(bits(points));
            const std::vector<std::uint32_t> b = dd::grid_bins(x, range.min, range.max, m);
            r.emplace_back(b.begin(), b.end());
          }
        return r;
      };
      dme::set_simd_target(reference_target());
      const auto want = run();
      dme::test::for_each_simd_target([&](const std::string&) {
        EXPECT_EQ(run(), want) << dme::test::dist_name(dist) << " d = " << d;
      });
    }
}

TEST(SolversSimd, ScanNamesTheFirstBadValueOnEveryTarget) {
  dme::test::for_each_simd_target([](const std::string&) {
    for (std::size_t d : {1u, 7u, 64u, 1000u})
      for (std::size_t at : {std::size_t{0}, d / 2, d - 1})
        for (float bad :
             {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
              -std::numeric_limits<float>::infinity()}) {
          std::vector<float> x(d, 1.5f);
          x[at] = bad;
          try {
            dd::scan_input(x, "test");
            ADD_FAILURE() << "no error for x[" << at << "] = " << bad << ", d = " << d;
          } catch (const dme::Error& e) {
            EXPECT_NE(std::string(e.what()).find("x[" + std::to_string(at) + "]"),
                      std::string::npos)
                << e.what();
          }
        }
    // Extremes anywhere, including the tail past the last whole vector.
    for (std::size_t d : {2u, 9u, 77u, 1025u}) {
      std::vector<float> x(d);
      for (std::size_t i = 0; i < d; ++i) x[i] = static_cast<float>((i * 37) % 101) - 50.0f;
      x[d - 1] = 1e30f;
      x[d / 3] = -1e30f;
      const dme::Extrema<float> r = dd::scan_input(x, "test");
      EXPECT_EQ(r.max, 1e30f);
      EXPECT_EQ(r.min, -1e30f);
    }
  });
}

}  // namespace
