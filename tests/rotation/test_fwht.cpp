#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "dme/core/error.h"
#include "dme/rotation/fwht.h"

#include "rotation_test_support.h"

namespace {

// Sylvester Hadamard entry: H[i][j] = (-1)^popcount(i & j).
double hadamard(std::size_t i, std::size_t j) {
  return (__builtin_popcountll(i & j) & 1) ? -1.0 : 1.0;
}

using dme::test::random_vector;

template <class T>
void expect_matches_explicit_matrix(T tol_per_unit) {
  for (std::size_t n = 1; n <= 1024; n *= 2) {
    auto x = random_vector<T>(n, static_cast<unsigned>(n));
    std::vector<double> expect(n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j) expect[i] += hadamard(i, j) * double(x[j]);
    std::vector<T> y = x;
    dme::fwht(std::span<T>(y));
    // Each output is a sum of n terms of size ~1: rounding error grows like log2(n)·sqrt(n)·eps.
    const double tol = tol_per_unit * std::sqrt(double(n)) * (1 + std::log2(double(n)));
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_NEAR(double(y[i]), expect[i], tol) << "n=" << n << " i=" << i;
  }
}

TEST(Fwht, EqualsExplicitHadamardFloat) {
  expect_matches_explicit_matrix<float>(4e-7f);
}
TEST(Fwht, EqualsExplicitHadamardDouble) {
  expect_matches_explicit_matrix<double>(1e-15);
}

TEST(Fwht, MatchesReferenceAcrossBlockingBoundaries) {
  // Lengths around the row length (2^13) and panel sizes exercise both phases.
  for (int l : {4, 5, 12, 13, 14, 15, 17, 20}) {
    const std::size_t n = std::size_t(1) << l;
    auto x = random_vector<double>(n, l);
    auto ref = x;
    dme::detail::fwht_reference(ref.data(), n);
    dme::fwht(std::span<double>(x));
    double max_err = 0;
    for (std::size_t i = 0; i < n; ++i) max_err = std::max(max_err, std::fabs(x[i] - ref[i]));
    EXPECT_LT(max_err, 1e-12 * std::sqrt(double(n)) * l) << "n=2^" << l;
  }
}

TEST(Fwht, OrthonormalPreservesNormToFloatPrecision) {
  for (int l : {1, 7, 13, 16, 20, 22}) {
    const std::size_t n = std::size_t(1) << l;
    auto x = random_vector<float>(n, 100 + l);
    double before = 0, after = 0;
    for (float v : x) before += double(v) * v;
    dme::fwht(std::span<float>(x), dme::Normalize::kOrthonormal);
    for (float v : x) after += double(v) * v;
    // Relative error of a float sum of squares after l levels: a few eps per level.
    EXPECT_NEAR(after / before, 1.0, 2e-7 * l) << "n=2^" << l;
  }
}

TEST(Fwht, OrthonormalIsSelfInverse) {
  const std::size_t n = 1 << 18;
  auto x = random_vector<float>(n, 9);
  auto y = x;
  dme::fwht(std::span<float>(y), dme::Normalize::kOrthonormal);
  dme::fwht(std::span<float>(y), dme::Normalize::kOrthonormal);
  for (std::size_t i = 0; i < n; ++i) ASSERT_NEAR(y[i], x[i], 1e-5f * (1 + std::fabs(x[i])));
}

TEST(Fwht, RejectsBadLengths) {
  std::vector<float> v(3, 1.0f);
  EXPECT_THROW(dme::fwht(std::span<float>(v)), dme::Error);
  std::vector<float> empty;
  EXPECT_THROW(dme::fwht(std::span<float>(empty)), dme::Error);
  try {
    std::vector<double> w(1000);
    dme::fwht(std::span<double>(w));
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("power of two, got 1000"), std::string::npos);
  }
}

}  // namespace
