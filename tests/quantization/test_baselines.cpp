// ZipML variants, ALQ, AMQ and the uniform grid: their defining properties.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/normal.h"
#include "dme/quantization/alq.h"
#include "dme/quantization/amq.h"
#include "dme/quantization/detail/magnitudes.h"
#include "dme/quantization/quiver.h"
#include "dme/quantization/uniform.h"
#include "dme/quantization/zipml.h"
#include "quant_test_support.h"

namespace {

using dme::test::Dist;

TEST(ZipmlCpQuant, AllQuantilesGiveTheExactOptimum) {
  // With m >= d - 1 every order statistic is a candidate: the DP is the exact one.
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers}) {
    const std::vector<float> x = dme::test::sorted_copy(dme::test::make_input(dist, 90, 3));
    for (std::size_t s : {3u, 6u, 11u}) {
      const long double opt = dme::test::brute_force_asq(x, s);
      const long double got = dme::test::asq_error(x, dme::zipml_cp_quantile(x, s, 89));
      EXPECT_NEAR(static_cast<double>(got), static_cast<double>(opt),
                  1e-9 * static_cast<double>(opt))
          << dme::test::dist_name(dist) << " s=" << s;
    }
  }
}

TEST(ZipmlCpQuant, FewCandidatesCostMoreButStayValid) {
  const std::vector<float> x =
      dme::test::sorted_copy(dme::test::make_input(Dist::kLogNormal, 5000, 4));
  const long double opt = dme::test::asq_error(x, dme::quiver_exact(x, 8));
  const std::vector<float> levels = dme::zipml_cp_quantile(x, 8, 16);
  EXPECT_EQ(levels.size(), 8u);
  EXPECT_EQ(levels.front(), x.front());
  EXPECT_EQ(levels.back(), x.back());
  EXPECT_GE(dme::test::asq_error(x, levels), opt * (1 - 1e-9L));
  EXPECT_THROW(dme::zipml_cp_quantile(x, 8, 7), dme::Error);
  EXPECT_THROW(dme::zipml_cp_uniform(x, 8, dme::kMaxZipmlCandidates + 1), dme::Error);
}

TEST(Zipml2Apx, AtMostTwiceTheOptimumWithAQuarterOfTheLevels) {
  // zipml.cpp proves: error(s levels) <= 2·OPT(floor(s/4) + 1 levels).
  for (Dist dist : {Dist::kLogNormal, Dist::kNormal, Dist::kIntegers, Dist::kUniform}) {
    const std::vector<float> x = dme::test::sorted_copy(dme::test::make_input(dist, 3000, 9));
    for (std::size_t s : {4u, 8u, 16u, 32u}) {
      const std::vector<float> levels = dme::zipml_2apx(x, s);
      ASSERT_LE(levels.size(), s);
      ASSERT_EQ(levels.front(), x.front());
      ASSERT_EQ(levels.back(), x.back());
      const long double got = dme::test::asq_error(x, levels);
      const long double opt_k = dme::test::asq_error(x, dme::quiver_exact(x, s / 4 + 1));
      EXPECT_LE(got, 2 * opt_k * (1 + 1e-9L)) << dme::test::dist_name(dist) << " s=" << s;
      const long double opt_s = dme::test::asq_error(x, dme::quiver_exact(x, s));
      EXPECT_GE(got, opt_s * (1 - 1e-9L));
    }
  }
}

TEST(Alq, DescentStagesNeverIncreaseTheVariance) {
  for (Dist dist : {Dist::kNormal, Dist::kLogNormal}) {
    const std::vector<float> x = dme::test::make_input(dist, 20000, 13);
    const dme::detail::Magnitudes m(x);
    const std::size_t k = m.magnitude_count(16);
    std::vector<double> uniform(k + 1);
    for (std::size_t j = 0; j <= k; ++j)
      uniform[j] = static_cast<double>(j) / static_cast<double>(k);
    const std::vector<double> fitted = dme::detail::alq_truncated_normal_levels(m, k);
    const std::vector<double> refined = dme::detail::alq_empirical_descent(m, fitted);
    ASSERT_EQ(fitted.size(), k + 1);
    EXPECT_EQ(fitted.front(), 0.0);
    EXPECT_EQ(fitted.back(), 1.0);
    EXPECT_TRUE(std::is_sorted(fitted.begin(), fitted.end()));
    // Each empirical update is the exact optimum of one level given its neighbours.
    EXPECT_LE(m.variance(refined), m.variance(fitted) * (1 + 1e-12));
    EXPECT_LT(m.variance(refined), m.variance(uniform)) << dme::test::dist_name(dist);
  }
}

TEST(Alq, TruncatedNormalLevelsSatisfyTheirUpdate) {
  // The first stage's fixed point (closed-form quantiles since the thirteenth session, 60
  // bisection steps before): every inner level l_j between a = l_{j-1} and b = l_{j+1} has
  // F(l_j) = F(b) - ∫_a^b (r - a)/(b - a) dF(r) under N(μ, σ²) truncated to [0, 1], μ and σ²
  // those of the magnitudes; the integral here by Simpson's rule, independent of the solver's.
  const std::vector<float> x = dme::test::make_input(Dist::kNormal, 4096, 29);
  const dme::detail::Magnitudes m(x);
  const double n = static_cast<double>(m.size());
  const double mu = m.sum(0, m.size()) / n;
  const double sigma = std::sqrt(m.sum_squares(0, m.size()) / n - mu * mu);
  const double f0 = dme::normal_cdf(-mu / sigma), z = dme::normal_cdf((1 - mu) / sigma) - f0;
  const auto cdf = [&](double r) { return (dme::normal_cdf((r - mu) / sigma) - f0) / z; };
  const auto pdf = [&](double r) { return dme::normal_pdf((r - mu) / sigma) / (sigma * z); };
  for (std::size_t s : {8u, 16u}) {
    const std::size_t k = m.magnitude_count(s);
    const std::vector<double> l = dme::detail::alq_truncated_normal_levels(m, k);
    for (std::size_t j = 1; j < k; ++j) {
      const double a = l[j - 1], b = l[j + 1];
      double lift = 0;
      const int steps = 2000;
      for (int t = 0; t <= steps; ++t) {
        const double r = a + (b - a) * t / steps;
        const double w = t == 0 || t == steps ? 1 : t % 2 ? 4 : 2;
        lift += w * (r - a) / (b - a) * pdf(r);
      }
      lift *= (b - a) / (3.0 * steps);
      EXPECT_NEAR(cdf(l[j]), cdf(b) - lift, 1e-9) << "s " << s << " level " << j;
    }
  }
}

TEST(Alq, SignedLevelsCoverTheInput) {
  for (Dist dist : {Dist::kNormal, Dist::kLogNormal, Dist::kTwoValues}) {
    const std::vector<float> x = dme::test::make_input(dist, 5000, 17);
    for (std::size_t s : {2u, 3u, 8u, 16u}) {
      const std::vector<float> levels = dme::alq_levels(x, s);
      ASSERT_LE(levels.size(), s);
      const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
      EXPECT_LE(levels.front(), *lo);
      EXPECT_GE(levels.back(), *hi);
      EXPECT_TRUE(std::adjacent_find(levels.begin(), levels.end(), std::greater_equal<float>()) ==
                  levels.end());
    }
  }
}

TEST(Amq, MultiplierIsTheBestOnAFineScan) {
  // The golden-section result is at least as good as every p on a 1000-point scan (to 1e-6).
  const std::vector<float> x = dme::test::make_input(Dist::kNormal, 20000, 23);
  const dme::detail::Magnitudes m(x);
  const std::size_t k = m.magnitude_count(8);
  const auto levels_of = [&](double p) {
    std::vector<double> l(k + 1);
    l[0] = 0;
    l[k] = 1;
    for (std::size_t j = k - 1; j >= 1; --j) l[j] = l[j + 1] * p;
    return l;
  };
  const double p = dme::amq_multiplier(x, 8);
  ASSERT_GT(p, 0.0);
  ASSERT_LT(p, 1.0);
  const double best = m.variance(levels_of(p));
  for (int g = 1; g < 1000; ++g)
    EXPECT_LE(best, m.variance(levels_of(g / 1000.0)) * (1 + 1e-6)) << "p=" << g / 1000.0;
  const std::vector<float> levels = dme::amq_levels(x, 8);
  EXPECT_LE(levels.size(), 8u);
}

TEST(Uniform, EvenlySpacedWithExactEnds) {
  const std::vector<float> l = dme::uniform_levels(-1.0f, 3.0f, 5);
  EXPECT_EQ(l, (std::vector<float>{-1.0f, 0.0f, 1.0f, 2.0f, 3.0f}));
  EXPECT_EQ(dme::uniform_levels(2.0f, 2.0f, 5), std::vector<float>{2.0f});
  // A range of two ulps cannot hold 16 distinct levels: they merge.
  const float a = 1.0f, b = std::nextafter(std::nextafter(a, 2.0f), 2.0f);
  EXPECT_EQ(dme::uniform_levels(a, b, 16).size(), 3u);
}

}  // namespace
