// QUIVER (exact and accelerated) and ZipML's exact DP reach the brute-force optimum.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/quantization/detail/asq_cost.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/quiver.h"
#include "dme/quantization/zipml.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;

// Relative 1e-9 of the optimum (the library's double costs carry errors of a few ulps of
// Σ(x - x̄)², which on these inputs stay well inside it; an optimum of 0 must be met exactly).
void expect_optimal(long double got, long double opt, const std::vector<float>& /*x*/,
                    const std::string& what) {
  const long double tol = 1e-9L * opt;
  EXPECT_LE(got, opt + tol) << what;
  EXPECT_GE(got, opt - tol) << what << " (below the brute-force optimum: reference broken?)";
}

void check_levels_shape(const std::vector<float>& levels, const std::vector<float>& sorted,
                        std::size_t s, const std::string& what) {
  ASSERT_FALSE(levels.empty()) << what;
  EXPECT_LE(levels.size(), s) << what;
  for (std::size_t t = 1; t < levels.size(); ++t) ASSERT_LT(levels[t - 1], levels[t]) << what;
  EXPECT_EQ(levels.front(), sorted.front()) << what;
  EXPECT_EQ(levels.back(), sorted.back()) << what;
  std::size_t distinct = 1;
  for (std::size_t i = 1; i < sorted.size(); ++i) distinct += sorted[i] != sorted[i - 1];
  EXPECT_EQ(levels.size(), std::min(s, distinct)) << what;
}

TEST(Quiver, ExactAndAcceleratedMatchBruteForceOnRandomSmallCases) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    // 2400 cases: d in 1..100, s in 2..max(2, d), every input family of the issue.
    const Dist dists[] = {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kConstant,
                          Dist::kTwoValues};
    const dme::PhiloxStream pick(11, 0, 0, dme::Purpose::kInput);
    int cases = 0;
    for (std::uint64_t c = 0; c < 2400; ++c) {
      const Dist dist = dists[c % 5];
      const std::size_t d = 1 + pick.bits32(2 * c) % 100;
      const std::size_t s = 2 + pick.bits32(2 * c + 1) % std::max<std::size_t>(1, d - 1);
      const std::vector<float> sorted = dme::test::sorted_copy(dme::test::make_input(dist, d, c));
      const long double opt = dme::test::brute_force_asq(sorted, s);
      const std::string what = std::string(dme::test::dist_name(dist)) + " d=" + std::to_string(d) +
                               " s=" + std::to_string(s);
      const std::vector<float> exact = dme::quiver_exact(sorted, s);
      const std::vector<float> accel = dme::quiver_accelerated(sorted, s);
      const std::vector<float> zipml = dme::zipml_exact(sorted, s);
      check_levels_shape(exact, sorted, s, "quiver " + what);
      check_levels_shape(accel, sorted, s, "quiver-accel " + what);
      expect_optimal(dme::test::asq_error(sorted, exact), opt, sorted, "quiver " + what);
      expect_optimal(dme::test::asq_error(sorted, accel), opt, sorted, "quiver-accel " + what);
      expect_optimal(dme::test::asq_error(sorted, zipml), opt, sorted, "zipml " + what);
      ++cases;
      if (HasFailure()) break;
    }
    EXPECT_EQ(cases, 2400);
  });
}

TEST(Quiver, AcceleratedHandlesLongRunsOfEqualValues) {
  // Runs of equal values make x_j == x_k inside the DP, where the closed-form middle level
  // divides by zero unless guarded.
  for (std::size_t s : {3u, 4u, 5u, 8u, 9u}) {
    std::vector<float> x;
    for (int v = 0; v < 12; ++v)
      for (int r = 0; r < 1 + (v * 7) % 13; ++r) x.push_back(static_cast<float>(v * v) * 0.5f);
    const long double opt = dme::test::brute_force_asq(x, s);
    expect_optimal(dme::test::asq_error(x, dme::quiver_accelerated(x, s)), opt, x,
                   "runs s=" + std::to_string(s));
    expect_optimal(dme::test::asq_error(x, dme::quiver_exact(x, s)), opt, x,
                   "runs s=" + std::to_string(s));
  }
}

TEST(Quiver, MiddleLevelFormulaIsTheBestSingleLevel) {
  // b*(k, j) against every candidate middle index, including equal end points.
  const std::vector<float> x =
      dme::test::sorted_copy(dme::test::make_input(Dist::kIntegers, 60, 5));
  std::vector<dme::detail::ChordPoint> p(x.size());
  dme::detail::chord_points(x, 0.0, p.data());
  const dme::detail::AccelAsqCost accel{p.data()};
  const dme::detail::AsqCost unit{p.data()};
  for (std::size_t k = 0; k < x.size(); ++k) {
    for (std::size_t j = k; j < x.size(); ++j) {
      const std::size_t b = accel.middle(k, j);
      ASSERT_GE(b, k);
      ASSERT_LE(b, j);
      for (std::size_t c = k; c <= j; ++c)
        ASSERT_LE(unit(k, b) + unit(b, j), unit(k, c) + unit(c, j) + 1e-9) << k << " " << j;
    }
  }
}

TEST(Quiver, LargeInputExactAndAcceleratedAgree) {
  // Under every SIMD target (tests/simd_test_support.h).
  dme::test::for_each_simd_target([&](const std::string&) {
    // d = 2^16 LogNormal: both exact solvers must find the same optimum (relative 1e-9).
    const std::vector<float> x =
        dme::test::sorted_copy(dme::test::make_input(Dist::kLogNormal, 1 << 16, 77));
    for (std::size_t s : {4u, 7u, 16u}) {
      const long double a = dme::test::asq_error(x, dme::quiver_exact(x, s));
      const long double b = dme::test::asq_error(x, dme::quiver_accelerated(x, s));
      EXPECT_NEAR(static_cast<double>(a), static_cast<double>(b), 1e-9 * static_cast<double>(a))
          << "s=" << s;
    }
  });
}

TEST(Quiver, ReusedScratchGivesTheLevelsOfAFreshThread) {
  // Each thread keeps the chord arrays' storage between solves up to 2^21 points; longer inputs
  // get storage of their own. Solves of mixed lengths on one thread (growing, shrinking, past
  // the kept size and back) must give the levels a fresh thread gives for each input.
  const std::vector<std::size_t> lengths = {1000, (std::size_t(1) << 21) + 3, 70000, 1000,
                                            (std::size_t(1) << 20) + 1};
  std::vector<std::vector<float>> inputs;
  for (std::size_t d : lengths)
    inputs.push_back(dme::test::sorted_copy(dme::test::make_input(Dist::kLogNormal, d, d)));
  std::vector<std::vector<float>> one_thread;
  for (const std::vector<float>& x : inputs) {
    one_thread.push_back(dme::quiver_accelerated(x, 6));
    one_thread.push_back(dme::quiver_exact(x, 5));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    std::vector<float> accel, exact;
    std::thread([&] {
      accel = dme::quiver_accelerated(inputs[i], 6);
      exact = dme::quiver_exact(inputs[i], 5);
    }).join();
    EXPECT_EQ(one_thread[2 * i], accel) << "d = " << lengths[i];
    EXPECT_EQ(one_thread[2 * i + 1], exact) << "d = " << lengths[i];
  }
}

TEST(Quiver, ZipmlRefusesLargeInputs) {
  const std::vector<float> x(dme::kMaxZipmlD + 1, 1.0f);
  EXPECT_THROW(dme::zipml_exact(x, 4), dme::Error);
}

TEST(PrefixSums, CompensatedSumsStayExactAtLargeD) {
  // d = 2^24 floats spanning 2^-10 .. 2^20: every partial sum needs far more than 53 bits, so a
  // plain double sum drifts (error ~ d·ulp); the compensated one must stay within 2 ulps of the
  // exact value, computed here in 128-bit fixed point (all inputs are multiples of 2^-33).
  const std::size_t d = std::size_t(1) << 24;
  std::vector<float> x(d);
  const dme::PhiloxStream in(3, 0, 0, dme::Purpose::kInput);
  for (std::size_t i = 0; i < d; ++i) {
    const double e = -10.0 + 30.0 * in.uniform_double(i);
    x[i] = static_cast<float>(std::ldexp(1.0 + in.uniform_double(d + i), static_cast<int>(e)));
  }
  std::sort(x.begin(), x.end());
  const double shift = 1024.0;  // a shift, as the solvers use, must not cost accuracy
  const std::vector<double> prefix = dme::detail::centred_prefix(x, shift);
  __extension__ typedef __int128 i128;
  i128 exact = 0;
  double naive = 0, worst_naive = 0, worst = 0;
  for (std::size_t t = 0; t < d; ++t) {
    exact += static_cast<i128>(std::ldexp(static_cast<double>(x[t]), 33)) -
             (static_cast<i128>(1024) << 33);
    naive += static_cast<double>(x[t]) - shift;
    if ((t & 0xFFF) != 0xFFF && t + 1 != d) continue;
    const double ref = std::ldexp(static_cast<double>(exact), -33);
    const double ulp = std::ldexp(std::numeric_limits<double>::epsilon(), std::ilogb(ref));
    worst = std::max(worst, std::fabs(prefix[t] - ref) / ulp);
    worst_naive = std::max(worst_naive, std::fabs(naive - ref) / ulp);
  }
  EXPECT_LE(worst, 2.0) << "compensated prefix sums, worst error in ulps";
  RecordProperty("naive_worst_ulps", std::to_string(worst_naive));
  EXPECT_GT(worst_naive, worst) << "the test input should defeat a plain double sum";
}

}  // namespace
