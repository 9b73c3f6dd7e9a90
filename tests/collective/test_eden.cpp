// EDEN through MeanEstimator (Options::scheme = kEden): the Lloyd–Max centroids of N(0, 1); the
// error of one round against EDEN's theory, ε_b / (1 − ε_b) per vector with ε_b the centroids'
// mean squared error, falling as 1/n for per-rank rotations; no bias over rounds; and a shared
// rotation correlating the ranks' errors so that identical inputs no longer average out.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "dme/collective/detail/eden.h"
#include "dme/collective/mean_estimator.h"
#include "dme/core/normal.h"
#include "scheme_test_support.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::world_rank;
using dme::test::world_size;

using dme::normal_cdf;
using dme::normal_pdf;
using dme::test::make_setting;
using dme::test::mean_nmse;
using dme::test::Setting;

// E[(X − Q(X))²] for X ~ N(0, 1) and Q the nearest of the centroids c.
double quantizer_mse(std::span<const double> c) {
  double mse = 0;
  for (std::size_t j = 0; j < c.size(); ++j) {
    const double a = j == 0 ? -INFINITY : 0.5 * (c[j - 1] + c[j]);
    const double b = j + 1 == c.size() ? INFINITY : 0.5 * (c[j] + c[j + 1]);
    const double mass = normal_cdf(b) - normal_cdf(a);
    const double ax = std::isinf(a) ? 0.0 : a * normal_pdf(a),
                 bx = std::isinf(b) ? 0.0 : b * normal_pdf(b);
    mse += mass + ax - bx - 2 * c[j] * (normal_pdf(a) - normal_pdf(b)) + c[j] * c[j] * mass;
  }
  return mse;
}

TEST(Eden, LloydMaxCentroidsOfTheNormal) {
  const auto c1 = dme::detail::normal_lloyd_max(1);
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_NEAR(c1[1], std::sqrt(2 / std::numbers::pi), 1e-12);
  EXPECT_EQ(c1[0], -c1[1]);
  const auto c2 = dme::detail::normal_lloyd_max(2);  // Max (1960): 0.4528, 1.5104
  EXPECT_NEAR(c2[2], 0.4528, 2e-4);
  EXPECT_NEAR(c2[3], 1.5104, 2e-4);
  for (unsigned b = 1; b <= 8; ++b) {
    const auto c = dme::detail::normal_lloyd_max(b);
    ASSERT_EQ(c.size(), std::size_t(1) << b);
    for (std::size_t j = 0; j < c.size(); ++j) {  // each centroid is the mean of its cell
      const double lo = j == 0 ? -INFINITY : 0.5 * (c[j - 1] + c[j]);
      const double hi = j + 1 == c.size() ? INFINITY : 0.5 * (c[j] + c[j + 1]);
      EXPECT_NEAR(c[j], (normal_pdf(lo) - normal_pdf(hi)) / (normal_cdf(hi) - normal_cdf(lo)), 1e-9)
          << "b " << b;
      if (j > 0) {
        EXPECT_LT(c[j - 1], c[j]);
      }
    }
  }
  // The published distortions (Max 1960): 0.3634, 0.1175, 0.03454, 0.009497.
  EXPECT_NEAR(quantizer_mse(dme::detail::normal_lloyd_max(1)), 1 - 2 / std::numbers::pi, 1e-9);
  EXPECT_NEAR(quantizer_mse(dme::detail::normal_lloyd_max(2)), 0.1175, 2e-4);
  EXPECT_NEAR(quantizer_mse(dme::detail::normal_lloyd_max(3)), 0.03454, 1e-4);
  EXPECT_NEAR(quantizer_mse(dme::detail::normal_lloyd_max(4)), 0.009497, 3e-5);
}

TEST(Eden, ErrorFollowsTheTheoryAndFallsAsOneOverN) {
  // Per rank, EDEN's vNMSE is ε/(1 − ε) for a rotated vector that is close to Gaussian; n ranks
  // with independent rotations (and iid inputs) average it down by n.
  const int n = world_size();
  const Setting st = make_setting(1 << 15, /*identical=*/false);
  for (unsigned b : {1u, 2u, 4u}) {
    dme::Options o;
    o.scheme = dme::Scheme::kEden;
    o.s = std::size_t(1) << b;
    o.shared_rotation = false;
    o.seed = 3;
    const double eps = quantizer_mse(dme::detail::normal_lloyd_max(b));
    const double theory = eps / (1 - eps) / n;
    const double got = mean_nmse(st, o, 6, nullptr);
    EXPECT_NEAR(got / theory, 1.0, 0.05) << "b " << b << ": " << got << " vs " << theory;
  }
}

TEST(Eden, UnbiasedOverRounds) {
  dme::Options o;
  o.scheme = dme::Scheme::kEden;
  o.s = 2;  // DRIVE
  o.shared_rotation = false;
  dme::test::expect_unbiased_over_rounds(make_setting(4096, /*identical=*/false), o, 48);
}

TEST(Eden, SharedRotationCorrelatesTheRanksErrors) {
  // Identical inputs: with one shared rotation every rank sends the same payload, so the mean's
  // error is one vector's; independent rotations average n errors down by n.
  const int n = world_size();
  if (n < 4) GTEST_SKIP() << "needs 4 ranks to separate the two";
  const Setting st = make_setting(1 << 13, /*identical=*/true);
  dme::Options o;
  o.scheme = dme::Scheme::kEden;
  o.s = 4;
  o.shared_rotation = true;
  const double shared = mean_nmse(st, o, 4, nullptr);
  o.shared_rotation = false;
  const double independent = mean_nmse(st, o, 4, nullptr);
  EXPECT_GT(shared, 0.5 * n * independent) << shared << " vs " << independent;
}

TEST(Eden, RefusesLevelCountsThatAreNotPowersOfTwo) {
  dme::Options o;
  o.scheme = dme::Scheme::kEden;
  o.s = 10;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  EXPECT_EQ(dme::parse_scheme("quic-fl"), dme::Scheme::kQuicFl);
  EXPECT_EQ(dme::parse_scheme("eden"), dme::Scheme::kEden);
}

}  // namespace
