#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/rng.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"
#include "rht_test_support.h"

namespace {

using dme::test::lognormal_vector;

TEST(Rht, PaddedLength) {
  EXPECT_EQ(dme::padded_length(1), 1u);
  EXPECT_EQ(dme::padded_length(3), 4u);
  EXPECT_EQ(dme::padded_length(1000), 1024u);
  EXPECT_EQ(dme::padded_length((1u << 20) + 1), 1u << 21);
  EXPECT_THROW(dme::padded_length(0), dme::Error);
  EXPECT_THROW(dme::padded_length(dme::kMaxRotationLength + 1), dme::Error);
}

TEST(Rht, InverseRestoresInput) {
  for (int k = 1; k <= 3; ++k)
    for (std::size_t d :
         {std::size_t(1), std::size_t(3), std::size_t(1000), (std::size_t(1) << 20) + 1}) {
      dme::Rotation rot(77, 5, k, d);
      ASSERT_EQ(rot.padded(), dme::padded_length(d));
      auto x = lognormal_vector(d, static_cast<unsigned>(d + k));
      std::vector<float> y(rot.padded()), back(d);
      rot.forward(x, y);
      rot.inverse(y, back);
      double max_rel = 0, norm = 0;
      for (float v : x) norm = std::max(norm, double(std::fabs(v)));
      for (std::size_t i = 0; i < d; ++i)
        max_rel = std::max(max_rel, std::fabs(double(back[i]) - x[i]) / norm);
      // k orthonormal transforms of log2 D levels each: error a few eps per level.
      EXPECT_LT(max_rel, 1e-6 * k * std::log2(double(rot.padded()) + 1) + 1e-7)
          << "k=" << k << " d=" << d;
    }
}

TEST(Rht, IsOrthogonal) {
  const std::size_t d = 3000;
  dme::Rotation rot(1, 0, 2, d);
  auto x = lognormal_vector(d, 4);
  std::vector<double> xd(x.begin(), x.end()), y(rot.padded());
  rot.forward(std::span<const double>(xd), std::span<double>(y));
  double nx = 0, ny = 0;
  for (double v : xd) nx += v * v;
  for (double v : y) ny += v * v;
  EXPECT_NEAR(ny / nx, 1.0, 1e-13);
}

TEST(Rht, EqualsSignsThenScaledHadamard) {
  const std::size_t d = 512;
  dme::Rotation rot(3, 9, 1, d);
  auto x = lognormal_vector(d, 5);
  std::vector<double> expect(d);
  for (std::size_t i = 0; i < d; ++i) expect[i] = double(x[i]) * rot.sign(0, i);
  dme::detail::fwht_reference(expect.data(), d);
  std::vector<float> y(d);
  rot.forward(x, y);
  for (std::size_t i = 0; i < d; ++i) EXPECT_NEAR(y[i], expect[i] / std::sqrt(512.0), 1e-5);
}

// k RHTs on a vector long enough to span several cache rows, where the chain shares sweeps
// between consecutive transforms (fwht_chain): equal to k textbook RHTs in double.
TEST(Rht, ChainEqualsComposedTextbookRhts) {
  const std::size_t d = (std::size_t(1) << 17) + 5;  // padded 2^18: 4 rows of 2^16
  for (int k = 1; k <= 3; ++k) {
    dme::Rotation rot(21, 3, k, d);
    const std::size_t n = rot.padded();
    auto x = lognormal_vector(d, 100 + static_cast<unsigned>(k));
    std::vector<double> expect(n, 0.0);
    std::copy(x.begin(), x.end(), expect.begin());
    for (int j = 0; j < k; ++j) {
      for (std::size_t i = 0; i < n; ++i) expect[i] *= rot.sign(j, i);
      dme::detail::fwht_reference(expect.data(), n);
      for (double& v : expect) v /= std::sqrt(double(n));
    }
    double norm = 0;
    for (double v : expect) norm = std::max(norm, std::fabs(v));
    std::vector<float> y(n);
    rot.forward(x, y);
    double max_err = 0;
    for (std::size_t i = 0; i < n; ++i)
      max_err = std::max(max_err, std::fabs(double(y[i]) - expect[i]) / norm);
    EXPECT_LT(max_err, 1e-5) << "forward k=" << k;
    // In place, and the inverse of the chain back to the input.
    std::vector<float> z(x);
    z.resize(n, 0.0f);
    rot.forward_inplace(z);
    EXPECT_EQ(z, y) << "k=" << k;
    std::vector<double> back(expect);
    for (int j = k - 1; j >= 0; --j) {
      dme::detail::fwht_reference(back.data(), n);
      for (std::size_t i = 0; i < n; ++i) back[i] *= rot.sign(j, i) / std::sqrt(double(n));
    }
    rot.inverse_inplace(y);
    double inv_err = 0, xnorm = 0;
    for (std::size_t i = 0; i < n; ++i) {
      xnorm = std::max(xnorm, std::fabs(back[i]));
      inv_err = std::max(inv_err, std::fabs(double(y[i]) - back[i]));
    }
    EXPECT_LT(inv_err / xnorm, 1e-5) << "inverse k=" << k;
  }
}

// The overlapped layout: k textbook RHTs of K = 2^floor(log2 d) on [0, K) with signs 0..K-1 of
// each sign vector, then k on [d - K, d) with signs K..2K-1; exactly d coordinates, orthogonal.
TEST(Rht, OverlappedLayoutIsTwoBlockChainsWithoutPadding) {
  for (std::size_t d : {std::size_t(3), std::size_t(65), std::size_t(1000),
                        (std::size_t(1) << 17) + 5, std::size_t(3) << 16}) {
    for (int k = 1; k <= 3; ++k) {
      const auto layout = dme::RotationLayout::kOverlapped;
      dme::Rotation rot(21, 3, k, d, 0, layout);
      ASSERT_EQ(rot.padded(), d);
      ASSERT_EQ(dme::padded_length(d, layout), d);
      const std::size_t K = std::bit_floor(d);
      const dme::Rotation signs(21, 3, k, 2 * K);  // the same sign streams, 2K bits long
      const auto x = lognormal_vector(d, 300 + static_cast<unsigned>(k));
      dme::test::expect_rotation_matches(
          rot, x, dme::test::block_chains(x, K, k, signs, {{0, 0}, {d - K, K}}),
          "d=" + std::to_string(d) + " k=" + std::to_string(k));
    }
  }
  // A power of two has one block: both layouts are the same rotation.
  dme::Rotation a(4, 1, 2, 4096, 0, dme::RotationLayout::kOverlapped), b(4, 1, 2, 4096);
  auto x = lognormal_vector(4096, 9);
  std::vector<float> ya(4096), yb(4096);
  a.forward(x, ya);
  b.forward(x, yb);
  EXPECT_EQ(ya, yb);
  EXPECT_EQ(dme::parse_rotation_layout("overlapped"), dme::RotationLayout::kOverlapped);
  EXPECT_THROW(dme::parse_rotation_layout("blocks"), dme::Error);
  // A non-finite input is named in the overlapped layout too (in either block).
  for (std::size_t at : {std::size_t(2), std::size_t(999)}) {
    std::vector<float> bad(1000, 1.0f), out(1000);
    bad[at] = std::numeric_limits<float>::quiet_NaN();
    dme::Rotation r(1, 1, 2, 1000, 0, dme::RotationLayout::kOverlapped);
    try {
      r.forward(bad, out);
      ADD_FAILURE() << "no error for a NaN at " << at;
    } catch (const dme::Error& e) {
      EXPECT_NE(std::string(e.what()).find("at index " + std::to_string(at)), std::string::npos)
          << e.what();
    }
  }
}

TEST(Rht, ForwardReportsTheExtremesOfItsOutput) {
  for (int k = 0; k <= 3; ++k)
    for (std::size_t d :
         {std::size_t(1), std::size_t(5), std::size_t(1000), (std::size_t(1) << 17) + 3}) {
      dme::Rotation rot(5, 1, k, d);
      const auto x = lognormal_vector(d, static_cast<unsigned>(3 * d + k));
      std::vector<float> y(rot.padded()), plain(rot.padded());
      float lo = 0, hi = 0;
      rot.forward(x, y, lo, hi);
      rot.forward(x, plain);
      EXPECT_EQ(y, plain) << "k=" << k << " d=" << d;
      const auto [mn, mx] = std::minmax_element(y.begin(), y.end());
      EXPECT_EQ(lo, *mn) << "k=" << k << " d=" << d;
      EXPECT_EQ(hi, *mx) << "k=" << k << " d=" << d;
    }
}

TEST(Rht, SeedRoundAndStreamSelectSigns) {
  const std::size_t d = 1 << 12;
  dme::Rotation a(11, 1, 3, d), same(11, 1, 3, d), next_round(11, 2, 3, d),
      other_stream(11, 1, 3, d, 1);
  auto equal_masks = [](const dme::Rotation& p, const dme::Rotation& q, int j) {
    auto m = p.sign_mask(j), n = q.sign_mask(j);
    return std::equal(m.begin(), m.end(), n.begin(), n.end());
  };
  for (int j = 0; j < 3; ++j) {
    EXPECT_TRUE(equal_masks(a, same, j));
    EXPECT_FALSE(equal_masks(a, next_round, j));
    EXPECT_FALSE(equal_masks(a, other_stream, j));
  }
  // The k sign vectors of one rotation are independent of each other.
  EXPECT_FALSE(std::equal(a.sign_mask(0).begin(), a.sign_mask(0).end(), a.sign_mask(1).begin()));
}

TEST(Rht, SignsComeFromTheDocumentedPhiloxStreams) {
  // Sign vector j of stream t is PhiloxStream(seed, round, 4t + j + 1, kRotationSigns): the
  // layout the CUDA backend and other ranks rely on. d = 5000 covers a partial last block.
  for (std::uint32_t stream : {0u, 3u}) {
    dme::Rotation rot(123, 7, 3, 5000, stream);
    for (int j = 0; j < 3; ++j) {
      dme::PhiloxStream ps(123, 7, 4 * stream + j + 1, dme::Purpose::kRotationSigns);
      for (std::size_t i = 0; i < rot.padded(); ++i)
        ASSERT_EQ(rot.sign(j, i), ps.sign(i)) << "stream " << stream << " j " << j << " i " << i;
    }
  }
}

TEST(Rht, ZeroRotationsIsIdentityWithoutPadding) {
  dme::Rotation rot(1, 1, 0, 1000);
  EXPECT_EQ(rot.padded(), 1000u);
  auto x = lognormal_vector(1000, 8);
  std::vector<float> y(1000), back(1000);
  rot.forward(x, y);
  EXPECT_EQ(y, x);
  rot.inverse(y, back);
  EXPECT_EQ(back, x);
}

TEST(Rht, RejectsBadInput) {
  EXPECT_THROW(dme::Rotation(1, 1, 4, 100), dme::Error);
  EXPECT_THROW(dme::Rotation(1, 1, -1, 100), dme::Error);
  EXPECT_THROW(dme::Rotation(1, 1, 2, 0), dme::Error);
  EXPECT_THROW(dme::Rotation(1, 1, 2, dme::kMaxRotationLength + 1), dme::Error);
  dme::Rotation rot(1, 1, 2, 100);
  std::vector<float> x(100, 1.0f), y(128), wrong(99);
  x[42] = std::numeric_limits<float>::quiet_NaN();
  try {
    rot.forward(x, y);
    FAIL() << "NaN accepted";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("index 42"), std::string::npos) << e.what();
  }
  x[42] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(rot.forward(x, y), dme::Error);
  x[42] = 0;
  EXPECT_THROW(rot.forward(wrong, y), dme::Error);
  std::vector<float> short_y(100);
  EXPECT_THROW(rot.forward(x, short_y), dme::Error);
}

}  // namespace
