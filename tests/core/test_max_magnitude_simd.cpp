// max_magnitude_bits (core/max_magnitude.h) on every SIMD target against its scalar
// definition: the largest magnitude exactly, and NaN or ±Inf anywhere (in the vector body or the
// tail) at or above kNonFiniteBits; and finite_max_abs, which the estimator's input check uses.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/error.h"
#include "dme/core/max_magnitude.h"
#include "dme/rotation/rht.h"

namespace {

std::uint32_t reference(const std::vector<float>& x) {
  std::uint32_t top = 0;
  for (float v : x) {
    std::uint32_t b;
    std::memcpy(&b, &v, 4);
    top = std::max(top, b & 0x7fffffffu);
  }
  return top;
}

TEST(MaxMagnitudeSimd, MatchesTheScalarDefinitionOnEveryTarget) {
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  dme::test::for_each_simd_target([&](const std::string&) {
    for (std::size_t n : {0u, 1u, 7u, 16u, 63u, 64u, 65u, 1000u, 4099u}) {
      std::vector<float> x(n);
      for (float& v : x) v = normal(gen);
      EXPECT_EQ(dme::max_magnitude_bits(x), reference(x)) << n;
      if (n == 0) continue;
      // The largest magnitude negative, at every place of interest: first, body, tail, last.
      for (std::size_t at : {std::size_t(0), n / 2, n - 1}) {
        std::vector<float> y = x;
        y[at] = -1e30f;
        EXPECT_EQ(dme::max_magnitude_bits(y), std::bit_cast<std::uint32_t>(1e30f))
            << n << " " << at;
        for (float bad :
             {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
          y[at] = bad;
          EXPECT_GE(dme::max_magnitude_bits(y), dme::kNonFiniteBits) << n << " " << at;
        }
      }
      std::vector<float> zeros(n, -0.0f);
      EXPECT_EQ(dme::max_magnitude_bits(zeros), 0u) << n;
    }
  });
}

TEST(MaxMagnitudeSimd, FiniteMaxAbsNamesTheFirstBadValue) {
  std::vector<float> x(1000, 0.5f);
  x[10] = -2.5f;
  EXPECT_EQ(dme::finite_max_abs(x, "input vector"), 2.5f);
  x[700] = std::numeric_limits<float>::infinity();
  x[900] = std::numeric_limits<float>::quiet_NaN();
  try {
    dme::finite_max_abs(x, "input vector");
    FAIL() << "no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("at index 700"), std::string::npos) << e.what();
  }
}

}  // namespace
