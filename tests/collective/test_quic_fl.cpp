// quic-fl (Options::scheme = kQuicFl) through MeanEstimator: the error of the mean is the
// design's vNMSE / n (the published QUIC-FL figures), unbiased over rounds, through every exchange
// that takes it; impossible options are refused. (tests/quantization/test_quic_fl_simd.cpp tests
// the quantizer and its kernel.)
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <vector>

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
