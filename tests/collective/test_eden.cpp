// EDEN through MeanEstimator (Options::scheme = kEden): the Lloyd–Max centroids of N(0, 1); the
// error of one round against EDEN's theory, ε_b / (1 − ε_b) per vector with ε_b the centroids'
// mean squared error, falling as 1/n for per-rank rotations; no bias over rounds; and a shared
// rotation correlating the ranks' errors so that identical inputs no longer average out.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "dme/collective/detail/eden.h"
#include "dme/collective/mean_estimator.h"
#include "dme/core/normal.h"
#include "dme/core/ordered_sum.h"
#include "dme/collective/compression.h"
#include "dme/quantization/lloyd_max.h"
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

TEST(Eden, LloydMaxTablesAreTheCentroidsInFloat) {
  // What a kind-4 payload is decoded with (quantization/lloyd_max.h), fixed in the source.
  for (unsigned b = 1; b <= 8; ++b) {
    const auto c = dme::detail::normal_lloyd_max(b);
    const auto t = dme::lloyd_max_table(b);
    ASSERT_EQ(t.size(), c.size());
    for (std::size_t j = 0; j < c.size(); ++j) EXPECT_EQ(t[j], static_cast<float>(c[j])) << b;
  }
  EXPECT_THROW(dme::lloyd_max_table(9), dme::Error);
}

TEST(Eden, FractionalBudgetFollowsTheMixedTheory) {
  // b + f bits: a share φ = G/256 of the coordinates takes the b + 1-bit centroids. With one
  // scale over both, the error per vector is ε/(1 − ε) with ε = (1 − φ)·ε_b + φ·ε_{b+1}: below
  // b bits' at b + φ bits on the wire (plus the header).
  const int n = world_size();
  const std::size_t d = 1 << 15;
  const Setting st = make_setting(d, /*identical=*/false);
  for (unsigned b : {1u, 2u, 4u}) {
    dme::Options o;
    o.scheme = dme::Scheme::kEden;
    o.s = std::size_t(1) << b;
    o.fractional_bits = 0.0315;  // G = 8: 8/256 of the coordinates
    o.shared_rotation = false;
    o.seed = 5;
    const double phi = 8.0 / 256;
    const double eps = (1 - phi) * quantizer_mse(dme::detail::normal_lloyd_max(b)) +
                       phi * quantizer_mse(dme::detail::normal_lloyd_max(b + 1));
    const double theory = eps / (1 - eps) / n;
    const double got = mean_nmse(st, o, 6, nullptr);
    EXPECT_NEAR(got / theory, 1.0, 0.05) << "b " << b << ": " << got << " vs " << theory;
    // The payload: header and one level count (112 bytes), the codes, the checksum.
    dme::MeanEstimator est(MPI_COMM_WORLD, o);
    std::vector<float> out(d);
    const dme::Report rep = est.estimate(st.x, out);
    const std::size_t codes = d / 8 * b + d / 2048 * 8;
    EXPECT_EQ(rep.payload_bytes, 112 + codes + 8) << "b " << b;
  }
}

TEST(Eden, FractionalBudgetIsUnbiasedThroughEveryExchange) {
  for (const auto exchange :
       {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast, dme::Exchange::kReduceScatter}) {
    dme::Options o;
    o.scheme = dme::Scheme::kEden;
    o.s = 2;
    o.fractional_bits = 0.25;
    o.exchange = exchange;
    o.shared_rotation = exchange == dme::Exchange::kReduceScatter;  // it sums rotated chunks
    SCOPED_TRACE(std::string(dme::exchange_name(exchange)));
    dme::test::expect_unbiased_over_rounds(make_setting(5000, /*identical=*/false), o, 48);
  }
}

// y through the seam as one eden payload: with buckets (payload kind 0, a level table per
// bucket) or without (kind 4, one scale), at a fractional budget of `groups` wide groups.
std::vector<std::byte> eden_encode(const std::vector<float>& y, std::uint32_t s,
                                   std::size_t bucket = 0, std::uint8_t groups = 0) {
  auto comp = dme::make_compression(dme::Backend::kCpu, dme::Scheme::kEden);
  dme::PayloadHeader h;
  h.d = h.padded = h.count = y.size();
  h.bucket_size = bucket;
  h.s = s;
  h.biased = true;
  dme::CompressionPlan plan;
  plan.s = s;
  plan.bucket_size = bucket;
  plan.nearest = true;
  plan.wide_groups = groups;
  std::vector<std::byte> out;
  dme::PhaseTimes times;
  comp->encode(y, h, plan, dme::PhiloxStream(1, 0, 0, dme::Purpose::kRounding), out, times);
  return out;
}

TEST(Eden, CodesAreTheNearestCentroidsOfABruteForceCount) {
  // Through the compression seam, one chunk: every code is the number of midpoints
  // float(σ·(C_j + C_j+1)/2) strictly below its value (C the float32 table of its width), for
  // tables of 4 to 256 centroids (the larger ones take a grid), whole and fractional budgets.
  std::mt19937 gen(11);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> y(3 * 2048 + 77);
  for (float& v : y) v = normal(gen);
  y[5] = 0.0f;
  y[6] = 1e3f;   // beyond the last midpoint
  y[7] = -1e3f;  // below the first
  const double sigma =
      std::sqrt(dme::ordered_sum(y.size(), [&](std::size_t i) { return double(y[i]) * y[i]; }) /
                double(y.size()));
  for (const auto& [s, groups] : std::vector<std::pair<std::uint32_t, std::uint8_t>>{
           {4, 0}, {32, 0}, {256, 0}, {16, 8}, {128, 40}}) {
    const dme::Payload p = dme::decode(eden_encode(y, s, 0, groups));
    ASSERT_EQ(p.header.kind, dme::PayloadKind::kLloydMax);
    const unsigned b = std::countr_zero(s);
    for (std::size_t i = 0; i < y.size(); ++i) {
      const bool wide = i % dme::kTwoWidthPeriod < 8u * groups;
      const auto c = dme::lloyd_max_table(b + (wide ? 1 : 0));
      unsigned below = 0;
      for (std::size_t j = 0; j + 1 < c.size(); ++j)
        below += y[i] > static_cast<float>(sigma * 0.5 * (double(c[j]) + double(c[j + 1])));
      ASSERT_EQ(p.codes[i], below) << "s " << s << " groups " << int(groups) << " i " << i;
    }
  }
}

TEST(Eden, BucketTablesHoldTheCentroidsTheirCodesUse) {
  // Against a brute force: per bucket, the nearest of the centroids σ·c_j (the count of float
  // midpoints below each value), the scale S = ‖y‖² / Σ y_i·σ·c_k(i), and a table of exactly
  // the levels S·σ·c_j that some code uses, so a bucket shorter than s sends at most its length
  // in levels (it sent all s: 522 bits per coordinate at --bucket 16 --s 256).
  std::mt19937 gen(5);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> y(2000);
  for (float& v : y) v = normal(gen);
  for (const auto& [bucket, s] : std::vector<std::pair<std::size_t, std::uint32_t>>{
           {16, 256}, {100, 16}, {100, 256}, {1024, 4}}) {
    const auto c = dme::detail::normal_lloyd_max(std::countr_zero(s));
    const std::vector<std::byte> out = eden_encode(y, s, bucket);
    const dme::Payload p = dme::decode(out);
    std::vector<float> back(y.size(), 0.0f);
    dme::decode_accumulate(out, {}, back);
    for (std::size_t b = 0; b * bucket < y.size(); ++b) {
      const std::size_t lo = b * bucket, hi = std::min(y.size(), lo + bucket);
      double norm2 = 0;
      for (std::size_t i = lo; i < hi; ++i) norm2 += double(y[i]) * y[i];
      const double sigma = std::sqrt(norm2 / double(hi - lo));
      std::vector<unsigned> k(hi - lo);
      std::vector<bool> used(c.size());
      double dot = 0;
      for (std::size_t i = lo; i < hi; ++i) {
        unsigned below = 0;
        for (std::size_t j = 0; j + 1 < c.size(); ++j)
          below += y[i] > static_cast<float>(sigma * 0.5 * (c[j] + c[j + 1]));
        k[i - lo] = below;
        used[below] = true;
        dot += double(y[i]) * sigma * c[below];
      }
      const std::size_t count = std::count(used.begin(), used.end(), true);
      ASSERT_EQ(p.levels.offsets[b + 1] - p.levels.offsets[b], count)
          << "bucket " << bucket << " s " << s << " #" << b;
      EXPECT_LE(count, hi - lo);
      for (std::size_t i = lo; i < hi; ++i) {
        const double want = norm2 / dot * sigma * c[k[i - lo]];
        ASSERT_NEAR(back[i], want, 1e-6 * std::fabs(want)) << "bucket " << bucket << " i " << i;
      }
    }
  }
}

TEST(Eden, SubnormalBucketsMergeLevelsThatFloat32CannotTellApart) {
  // Buckets of 1024: a normal one, then one of small multiples of the least subnormal (RMS near
  // 1e-45), whose levels S·σ·c_j round to few distinct float32 values: they are merged (the
  // codes renumbered), where the encoder used to stop with "levels ... not distinct in float32".
  const float tiny = std::numeric_limits<float>::denorm_min();
  std::mt19937 gen(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> y(2048);
  for (std::size_t i = 0; i < 1024; ++i) y[i] = normal(gen);
  for (std::size_t i = 1024; i < 2048; ++i) y[i] = float(int(i % 5) - 2) * tiny;
  for (std::uint32_t s : {2u, 16u, 256u}) {
    const std::vector<std::byte> out = eden_encode(y, s, 1024);
    const dme::Payload p = dme::decode(out);
    ASSERT_EQ(p.levels.offsets.size(), 3u);
    if (s == 16) {
      EXPECT_EQ(p.levels.offsets[1], s) << "the normal bucket uses every level";
    }
    const std::uint32_t merged = p.levels.offsets[2] - p.levels.offsets[1];
    if (s > 2) {  // (2 levels, ±S·σ·0.8, stay apart)
      EXPECT_LT(merged, 5u) << "at most one level per distinct value";
    }
    EXPECT_GE(merged, 2u);
    std::vector<float> back(y.size(), 0.0f);
    dme::decode_accumulate(out, {}, back);
    // The tiny bucket's estimate stays on the scale of its values (a few least subnormals).
    for (std::size_t i = 1024; i < 2048; ++i) ASSERT_LE(std::fabs(back[i]), 64 * tiny) << i;
  }
}

TEST(Eden, FractionalBudgetRefusesWhatItCannotSpend) {
  dme::Options o;
  o.scheme = dme::Scheme::kEden;
  o.s = 4;
  for (double f : {-0.1, 1.0, 0.001, std::nan("")}) {
    o.fractional_bits = f;
    EXPECT_THROW(dme::validate(o), dme::Error) << f;
  }
  o.fractional_bits = 0.5;
  EXPECT_NO_THROW(dme::validate(o));
  o.s = 256;  // no 9-bit table
  EXPECT_THROW(dme::validate(o), dme::Error);
  o.s = 4;
  o.bucket_size = 1024;
  EXPECT_THROW(dme::validate(o), dme::Error);
  o.bucket_size = 0;
  o.scheme = dme::Scheme::kAsq;
  EXPECT_THROW(dme::validate(o), dme::Error);
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
