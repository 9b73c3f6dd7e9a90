// Options::threads (dme/core/parallel.h): every threaded kernel, and the whole estimate on every
// exchange, gives bit-identical results for every thread count, at awkward lengths.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <cstring>
#include <vector>

#include "dme/codec/payload.h"
#include "dme/collective/compression.h"
#include "dme/collective/detail/compress.h"
#include "dme/collective/mean_estimator.h"
#include "dme/core/error.h"
#include "dme/core/parallel.h"
#include "dme/core/rng.h"
#include "dme/quantization/detail/candidates.h"
#include "dme/quantization/quiver_approx.h"
#include "dme/rotation/rht.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::world_rank;

using dme::test::same_bits;
constexpr auto lognormal = dme::test::lognormal_input;

constexpr int kThreadCounts[] = {2, 3, 4};

TEST(Threads, RotationIsBitIdentical) {
  // One row, many rows (2^21: the column sweeps run), an overlapped odd length, and rotation
  // blocks (7 whole blocks of 4096 and a tail: they run block by block on the threads, and the
  // pipelined allgather's early inverse too); 1..3 RHTs.
  struct Case {
    std::size_t d, block;
  };
  for (Case c : {Case{5000, 0}, Case{std::size_t(1) << 21, 0}, Case{(std::size_t(1) << 20) + 77, 0},
                 Case{7 * 4096 + 3, 4096}}) {
    const std::size_t d = c.d;
    for (int k : {1, 2, 3}) {
      const std::vector<float> x = lognormal(d, 7);
      const dme::Rotation rot(11, 3, k, d, 0, dme::RotationLayout::kOverlapped, c.block);
      std::vector<float> want(rot.padded()), back_want(d);
      float lo_want = 0, hi_want = 0;
      rot.forward(x, want, lo_want, hi_want);
      std::vector<float> tmp = want;
      rot.inverse(tmp, back_want);
      for (int threads : kThreadCounts) {
        const dme::ThreadScope scope(threads);
        std::vector<float> got(rot.padded()), back(d);
        float lo = 0, hi = 0;
        rot.forward(x, got, lo, hi);
        EXPECT_TRUE(same_bits(got, want)) << "d " << d << ", k " << k << ", " << threads;
        EXPECT_EQ(lo, lo_want);
        EXPECT_EQ(hi, hi_want);
        std::vector<float> tmp2 = got;
        rot.inverse(tmp2, back);
        EXPECT_TRUE(same_bits(back, back_want)) << "inverse, d " << d << ", k " << k;
        if (rot.independent_blocks() == 0) continue;
        tmp2 = got;
        rot.inverse_blocks(tmp2, 0, 4);
        rot.inverse_rest(tmp2, 4);
        EXPECT_TRUE(same_bits(tmp2, back_want)) << "early inverse, k " << k << ", " << threads;
      }
    }
  }
}

TEST(Threads, SignMasksAreBitIdentical) {
  // The masks are drawn in spans of 4096 Philox blocks on the threads: several spans with a
  // partial last one (blocks of 2^15 and a tail: 2^20 + 2^17 signs per RHT), one whole span,
  // and fewer blocks than one span. Every sign against its definition, PhiloxStream::sign_bit
  // of the RHT's stream.
  struct Case {
    std::size_t d, block;
    dme::RotationLayout layout;
  };
  for (Case c :
       {Case{(std::size_t(1) << 20) + 3 * 32768 + 5, 32768, dme::RotationLayout::kOverlapped},
        Case{std::size_t(1) << 19, 0, dme::RotationLayout::kPadded},
        Case{5000, 0, dme::RotationLayout::kPadded}}) {
    for (int threads : {1, 2, 3}) {
      const dme::ThreadScope scope(threads);
      const dme::Rotation rot(5, 2, 3, c.d, 1, c.layout, c.block);
      for (int j = 0; j < 3; ++j) {
        const dme::PhiloxStream stream(5, 2, dme::sign_stream_key(1, j),
                                       dme::Purpose::kRotationSigns);
        const auto mask = rot.sign_mask(j);
        std::size_t wrong = 0;
        for (std::size_t i = 0; i < 64 * mask.size(); ++i)
          wrong += ((mask[i / 64] >> (i % 64)) & 1u) != stream.sign_bit(i);
        EXPECT_EQ(wrong, 0u) << "d " << c.d << ", RHT " << j << ", " << threads << " threads";
      }
    }
  }
}

TEST(Threads, HistogramIsBitIdentical) {
  const std::size_t d = (std::size_t(1) << 21) + 5;  // 8 segments and a tail
  const std::vector<float> x = lognormal(d, 9);
  const float lo = *std::min_element(x.begin(), x.end());
  const float hi = *std::max_element(x.begin(), x.end());
  const auto want = dme::detail::grid_statistics(x, lo, hi, 400);
  for (int threads : kThreadCounts) {
    const dme::ThreadScope scope(threads);
    const auto got = dme::detail::grid_statistics(x, lo, hi, 400);
    ASSERT_EQ(got.points.size(), want.points.size());
    for (std::size_t t = 0; t < got.points.size(); ++t) {
      EXPECT_EQ(got.points[t].x, want.points[t].x) << t;
      EXPECT_EQ(got.points[t].u, want.points[t].u) << t;
    }
    EXPECT_EQ(got.bordering, want.bordering);
    EXPECT_EQ(got.contained, want.contained);
  }
}

TEST(Threads, LevelsAndInputErrorsAreTheSame) {
  std::vector<float> x = lognormal((std::size_t(1) << 20) + 9, 17);
  const std::vector<float> want = dme::quiver_approx(x, 16, 400);
  const float a = x[300001], b = x[700003];
  x[300001] = std::nanf("");
  x[700003] = INFINITY;
  std::string want_error;
  try {
    dme::quiver_approx(x, 16, 400);
  } catch (const dme::Error& e) {
    want_error = e.what();
  }
  EXPECT_NE(want_error.find("300001"), std::string::npos) << want_error;
  x[300001] = a;
  x[700003] = b;
  for (int threads : kThreadCounts) {
    const dme::ThreadScope scope(threads);
    EXPECT_EQ(dme::quiver_approx(x, 16, 400), want) << threads;
    x[300001] = std::nanf("");
    x[700003] = INFINITY;
    try {
      dme::quiver_approx(x, 16, 400);
      ADD_FAILURE() << "NaN accepted with " << threads << " threads";
    } catch (const dme::Error& e) {
      EXPECT_EQ(std::string(e.what()), want_error);
    }
    x[300001] = a;
    x[700003] = b;
  }
}

TEST(Threads, PayloadsAndDecodingAreBitIdentical) {
  // Fixed width (s = 16), mixed radix (s = 10, digits per word do not divide the blocks),
  // nearest rounding, buckets, and a length that ends mid-word.
  const std::size_t d = 3 * 8192 * 5 + 13;
  const std::vector<float> y = lognormal(d, 13);
  struct Case {
    std::size_t s;
    bool nearest;
    std::uint64_t bucket;
  };
  for (const Case c : {Case{16, false, 0}, Case{10, false, 0}, Case{10, true, 0},
                       Case{16, false, 20000}}) {
    dme::PayloadHeader h;
    h.d = h.padded = h.count = d;
    h.s = static_cast<std::uint32_t>(c.s);
    h.bucket_size = c.bucket;
    h.biased = c.nearest;
    dme::CompressionPlan plan;
    plan.s = c.s;
    plan.nearest = c.nearest;
    plan.bucket_size = c.bucket;
    const dme::PhiloxStream stream(5, 1, 0, dme::Purpose::kRounding);
    std::vector<std::byte> want;
    dme::PhaseTimes t;
    dme::detail::CompressScratch scratch;
    dme::detail::compress_chunk(y, h, plan, stream, scratch, want, t);
    std::vector<float> acc_want(d, 0.5f);
    dme::decode_accumulate(want, {}, std::span<float>(acc_want));
    for (int threads : kThreadCounts) {
      const dme::ThreadScope scope(threads);
      std::vector<std::byte> got;
      dme::detail::CompressScratch fresh;
      dme::detail::compress_chunk(y, h, plan, stream, fresh, got, t);
      EXPECT_EQ(got, want) << "s " << c.s << ", threads " << threads;
      std::vector<float> acc(d, 0.5f);
      dme::decode_accumulate(got, {}, std::span<float>(acc));
      EXPECT_TRUE(same_bits(acc, acc_want)) << "s " << c.s << ", threads " << threads;
    }
  }
}

// The estimate of o with one thread and with 2 or 3 (ranks may use different counts) is the
// same, bit for bit, for each exchange.
void expect_estimate_independent_of_threads(dme::Options o, unsigned input_seed,
                                            std::initializer_list<dme::Exchange> exchanges) {
  const std::size_t d = (std::size_t(1) << 18) + 3;
  const std::vector<float> x = lognormal(d, input_seed + static_cast<unsigned>(world_rank()));
  for (auto ex : exchanges) {
    o.exchange = ex;
    o.threads = 1;
    dme::MeanEstimator one(MPI_COMM_WORLD, o);
    std::vector<float> want(d);
    one.estimate(x, want);
    o.threads = 2 + world_rank() % 2;
    dme::MeanEstimator many(MPI_COMM_WORLD, o);
    std::vector<float> got(d);
    many.estimate(x, got);
    EXPECT_TRUE(same_bits(got, want)) << dme::exchange_name(ex);
  }
}

TEST(Threads, EstimateIsBitIdenticalOnEveryExchange) {
  dme::Options o;
  o.seed = 31;
  expect_estimate_independent_of_threads(
      o, 100, {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast,
               dme::Exchange::kReduceScatter, dme::Exchange::kReduceScatterInt});
}

TEST(Threads, QuicFlEstimateIsBitIdentical) {
  // The quic-fl encoder runs tasks on the threads, each with its own exact coordinates.
  dme::Options o;
  o.scheme = dme::Scheme::kQuicFl;
  o.s = 4;
  o.seed = 37;
  expect_estimate_independent_of_threads(
      o, 200, {dme::Exchange::kAllgather, dme::Exchange::kReduceScatter});
}

TEST(Threads, BadCountsAreNamed) {
  for (int bad : {0, -1, dme::kMaxThreads + 1}) {
    dme::Options o;
    o.threads = bad;
    try {
      dme::validate(o);
      FAIL() << "accepted threads = " << bad;
    } catch (const dme::Error& e) {
      EXPECT_NE(std::string(e.what()).find("threads"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::to_string(bad)), std::string::npos) << e.what();
    }
  }
}

}  // namespace
