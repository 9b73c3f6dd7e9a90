#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "dme/core/error.h"
#include "dme/rotation/adaptive_count.h"

namespace {

TEST(AdaptiveCount, GaussianAndMildLogNormalNeedOne) {
  std::mt19937_64 g(1);
  std::normal_distribution<float> nd;
  std::lognormal_distribution<float> ln(0.0f, 0.5f);  // ρ = e^{1.5σ²} ≈ 1.45 at σ = 1/2
  for (std::size_t d : {1000u, 1u << 16}) {
    std::vector<float> a(d), b(d);
    for (auto& v : a) v = nd(g);
    for (auto& v : b) v = ln(g);
    EXPECT_EQ(dme::adaptive_rotation_count(a), 1) << d;
    EXPECT_EQ(dme::adaptive_rotation_count(b), 1) << d;
    auto m = dme::moment_summary(a);
    // Gaussian: ρ ≈ sqrt(8/π)·(d/D)^-1/2, κ ≈ 3·D/d.
    const double pad = double(1u << static_cast<int>(std::ceil(std::log2(double(d))))) / double(d);
    EXPECT_NEAR(m.rho, std::sqrt(8 / M_PI) * std::sqrt(pad), 0.15);
    EXPECT_NEAR(m.kappa, 3 * pad, 0.4);
  }
}

TEST(AdaptiveCount, HeavyTailsNeedTwo) {
  // LogNormal(0, 1): ρ = E|x|³/(E x²)^{3/2} = e^{1.5} ≈ 4.5, where one RHT measured 2-7x worse.
  std::mt19937_64 g(2);
  std::lognormal_distribution<float> ln(0.0f, 1.0f);
  std::vector<float> x(1 << 16);
  for (auto& v : x) v = ln(g);
  EXPECT_NEAR(dme::moment_summary(x).rho, std::exp(1.5), 0.5);
  EXPECT_EQ(dme::adaptive_rotation_count(x), 2);
}

TEST(AdaptiveCount, SparseInputsNeedTwo) {
  const std::size_t d = 1 << 12;
  std::vector<float> one_hot(d, 0.0f), two_hot(d, 0.0f);
  one_hot[17] = 3.0f;
  two_hot[1] = 1.0f;
  two_hot[2000] = -2.0f;
  EXPECT_EQ(dme::adaptive_rotation_count(one_hot), 2);
  EXPECT_EQ(dme::adaptive_rotation_count(two_hot), 2);
  EXPECT_NEAR(dme::moment_summary(one_hot).rho, 64.0, 1e-9);  // sqrt(D)
  EXPECT_NEAR(dme::moment_summary(one_hot).kappa, double(d), 1e-6);
}

TEST(AdaptiveCount, ZeroVectorAndBadInput) {
  std::vector<float> zero(10, 0.0f);
  EXPECT_EQ(dme::adaptive_rotation_count(zero), 1);
  std::vector<float> empty;
  EXPECT_THROW(dme::adaptive_rotation_count(empty), dme::Error);
  std::vector<float> inf(10, 1.0f);
  inf[3] = INFINITY;
  EXPECT_THROW(dme::adaptive_rotation_count(inf), dme::Error);
}

}  // namespace
