// QuicFlQuantizer (quantization/quic_fl.h): the sender's tables are unbiased at every grid
// point, the tables' error is the optimiser's and the published one, and the grid kernel gives
// the scalar definition's grid points under every SIMD target.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/normal.h"
#include "dme/core/rng.h"
#include "dme/quantization/detail/quic_fl_grid.h"
#include "dme/quantization/quic_fl.h"
#include "../simd_test_support.h"

namespace {

using dme::QuicFlQuantizer;

TEST(QuicFl, EveryGridPointIsUnbiased) {
  for (unsigned b = 1; b <= 4; ++b) {
    const QuicFlQuantizer& q = QuicFlQuantizer::get(b);
    EXPECT_NEAR(q.support(), 3.0972, 1e-3);  // P(|N(0, 1)| > T) = 1/512
    double worst = 0;
    for (std::size_t j = 0; j < QuicFlQuantizer::kGridPoints; ++j)
      worst = std::max(worst, std::fabs(q.grid_mean(j) - q.grid_point(j)));
    EXPECT_LT(worst, 1e-7) << "b " << b;  // the split probability is a multiple of 2^-24
  }
  EXPECT_FALSE(QuicFlQuantizer::has_bits(5));
  EXPECT_THROW(QuicFlQuantizer::get(8), dme::Error);
}

TEST(QuicFl, GridKernelIsTheScalarDefinitionOnEveryTarget) {
  // Values across and beyond the support (and the edges, zero, NaN), at an awkward length.
  const dme::QuicFlQuantizer& q = QuicFlQuantizer::get(2);
  const std::size_t n = 1000 + 7;
  std::vector<float> y(n);
  std::vector<std::uint32_t> w(n), want(n), got(n);
  const dme::PhiloxStream rng(3, 0, 0, dme::Purpose::kInput);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = 8.0f * (rng.uniform_float(i) - 0.5f);
    w[i] = rng.bits32(n + i);
  }
  y[0] = q.support_f();
  y[1] = -q.support_f();
  y[2] = std::nextafter(q.support_f(), 10.0f);
  y[3] = 0.0f;
  y[4] = std::numeric_limits<float>::quiet_NaN();
  w[5] = 0xFFFFFFFFu;
  w[6] = 0;
  const bool exact = dme::detail::quic_fl_grid_scalar(q, y.data(), w.data(), n, 1.0f, want.data());
  EXPECT_TRUE(exact);
  EXPECT_EQ(want[2], QuicFlQuantizer::kExact);
  EXPECT_EQ(want[4], QuicFlQuantizer::kExact);
  EXPECT_LT(want[0], QuicFlQuantizer::kGridPoints);
  dme::test::for_each_simd_target([&](const std::string&) {
    std::fill(got.begin(), got.end(), 0u);
    EXPECT_EQ(dme::detail::quic_fl_grid(q, y.data(), w.data(), n, 1.0f, got.data()), exact);
    EXPECT_EQ(got, want);
    // A block without exact coordinates says so.
    std::vector<float> small(64, 0.5f);
    EXPECT_FALSE(dme::detail::quic_fl_grid(q, small.data(), w.data(), 64, 1.0f, got.data()));
  });
}

TEST(QuicFl, TableErrorIsTheDesignAndThePublishedOne) {
  // E[(R - z)²] over z ~ N(0, 1) truncated to [-T, T] (trapezoid over the sender's grid), times
  // P(|z| <= T): the vNMSE of one vector at large d. QUIC-FL's paper reports the NMSE of the mean
  // of n = 10 vectors at 1, 2, 4 bits as 0.147, 0.0215, 0.00097, i.e. about 10x these.
  const double published[] = {0, 1.47, 0.215, 0, 0.0097};
  for (unsigned b = 1; b <= 4; ++b) {
    const QuicFlQuantizer& q = QuicFlQuantizer::get(b);
    double num = 0, den = 0;
    for (std::size_t j = 0; j < QuicFlQuantizer::kGridPoints; ++j) {
      const double w = dme::normal_pdf(q.grid_point(j)) *
                       (j == 0 || j + 1 == QuicFlQuantizer::kGridPoints ? 0.5 : 1.0);
      num += w * q.grid_variance(j);
      den += w;
    }
    const double inside = 2 * dme::normal_cdf(q.support()) - 1;
    const double vnmse = num / den * inside;
    EXPECT_NEAR(vnmse / q.design_vnmse(), 1.0, 0.01) << "b " << b;
    if (published[b] > 0) {
      EXPECT_LT(vnmse, 1.02 * published[b]) << "b " << b;
    }
  }
}

}  // namespace
