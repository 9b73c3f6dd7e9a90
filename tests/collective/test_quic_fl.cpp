// quic-fl (Options::scheme = kQuicFl) through MeanEstimator: the error of the mean is the
// design's vNMSE / n (the published QUIC-FL figures), unbiased over rounds, through every exchange
// that takes it; impossible options are refused. (tests/quantization/test_quic_fl_simd.cpp tests
// the quantizer and its kernel.)
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <random>
#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/compression.h"
#include "dme/collective/mean_estimator.h"
#include "dme/quantization/quic_fl.h"
#include "scheme_test_support.h"
#include "support/mpi_test_support.h"

namespace {

using dme::QuicFlQuantizer;
using dme::test::make_setting;
using dme::test::mean_nmse;
using dme::test::Setting;
using dme::test::world_size;

TEST(QuicFl, ErrorOfTheMeanIsTheDesignOverN) {
  const int n = world_size();
  const Setting st = make_setting(1 << 15, /*identical=*/false);
  for (unsigned b : {1u, 2u, 4u}) {
    dme::Options o;
    o.scheme = dme::Scheme::kQuicFl;
    o.s = std::size_t(1) << b;
    o.seed = 5;
    const double theory = QuicFlQuantizer::get(b).design_vnmse() / n;
    const double got = mean_nmse(st, o, 6, nullptr);
    EXPECT_NEAR(got / theory, 1.0, 0.06) << "b " << b << ": " << got << " vs " << theory;
  }
}

TEST(QuicFl, UnbiasedOverRounds) {
  dme::Options o;
  o.scheme = dme::Scheme::kQuicFl;
  o.s = 4;
  dme::test::expect_unbiased_over_rounds(make_setting(4096, /*identical=*/true), o, 48);
}

TEST(QuicFl, EveryExchangeThatTakesItIsUnbiased) {
  // reduce-scatter requantizes each owner's chunk (shared draws of purpose 8), gather-bcast's
  // compressed downlink the mean (purpose 9): unbiased either way.
  const Setting st = make_setting(4096, /*identical=*/false);
  for (int which = 0; which < 3; ++which) {
    dme::Options o;
    o.scheme = dme::Scheme::kQuicFl;
    o.s = 16;
    o.exchange = which == 0 ? dme::Exchange::kReduceScatter : dme::Exchange::kGatherBcast;
    o.compressed_downlink = which == 2;
    SCOPED_TRACE(which);
    dme::test::expect_unbiased_over_rounds(st, o, 48);
  }
}

TEST(QuicFl, TinyChunksAreQuantizedNotSentExactly) {
  // Through the seam: a normal chunk scaled by 2^-130 and 2^-140 (RMS near 7e-40 and 7e-43,
  // below 1/FLT_MAX, where 1/σ overflowed float32 and every coordinate went out exactly, 64 bits
  // each): as few exact coordinates as at scale 1 (about 1 in 512) and the design's error.
  std::mt19937 gen(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> y(1 << 14);
  for (float& v : y) v = normal(gen);
  auto comp = dme::make_compression(dme::Backend::kCpu, dme::Scheme::kQuicFl);
  for (unsigned b : {2u, 4u})
    for (int e : {0, -130, -140}) {
      std::vector<float> x(y.size());
      for (std::size_t i = 0; i < y.size(); ++i) x[i] = std::ldexp(y[i], e);
      dme::PayloadHeader h;
      h.d = h.padded = h.count = x.size();
      h.s = 1u << b;
      dme::CompressionPlan plan;
      plan.s = h.s;
      std::vector<std::byte> out;
      dme::PhaseTimes times;
      comp->encode(x, h, plan, dme::PhiloxStream(4, 0, 0, dme::Purpose::kRounding), out, times);
      const dme::Payload p = dme::decode(out);
      EXPECT_LT(p.levels.exact.size(), x.size() / 200) << "b " << b << " 2^" << e;
      std::vector<float> back(x.size(), 0.0f);
      dme::decode_accumulate(out, {}, back);
      double err = 0, norm = 0;
      for (std::size_t i = 0; i < x.size(); ++i) {
        const double u = std::ldexp(double(back[i]), -e), v = y[i];
        err += (u - v) * (u - v);
        norm += v * v;
      }
      const double design = QuicFlQuantizer::get(b).design_vnmse();
      EXPECT_LT(err / norm, 1.3 * design) << "b " << b << " 2^" << e;
      EXPECT_GT(err / norm, 0.7 * design) << "b " << b << " 2^" << e;
    }
}

TEST(QuicFl, RefusesImpossibleOptions) {
  dme::Options o;
  o.scheme = dme::Scheme::kQuicFl;
  o.s = 32;  // no 5-bit table
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  o.s = 10;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  o.s = 16;
  o.bucket_size = 1024;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  o.bucket_size = 0;
  o.rounding = dme::Rounding::kNearest;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  o.rounding = dme::Rounding::kAuto;
  o.exchange = dme::Exchange::kReduceScatterInt;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  o.exchange = dme::Exchange::kAllgather;
  o.pipeline_chunks = 4;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  EXPECT_THROW(dme::make_compression(dme::Backend::kCuda, dme::Scheme::kQuicFl), dme::Error);
}

}  // namespace
