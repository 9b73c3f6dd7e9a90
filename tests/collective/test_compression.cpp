// The compression seam (dme/collective/compression.h): the CPU implementation is compress_chunk
// and decode_accumulate; MeanEstimator runs every exchange through whatever implementation it
// holds, so an instrumented one sees the calls each exchange makes, and another encoding scheme
// (here: raw float32) plugs in without touching the exchanges.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dme/collective/compression.h"
#include "dme/collective/detail/compress.h"
#include "dme/collective/mean_estimator.h"
#include "support/mpi_test_support.h"
#if defined(DME_HAVE_CUDA)
#include "dme/cuda/cuda_backend.h"
#endif

namespace {

using dme::test::world_rank;
using dme::test::world_size;

std::vector<float> local_input(std::size_t d) {
  std::mt19937 gen(100 + static_cast<unsigned>(world_rank()));
  std::lognormal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(d);
  for (auto& v : x) v = dist(gen);
  return x;
}

// The mean of every rank's local_input(d), in double.
std::vector<double> exact_mean(std::size_t d) {
  const int n = world_size();
  std::vector<double> mean(d, 0.0);
  for (int r = 0; r < n; ++r) {
    std::mt19937 gen(100 + static_cast<unsigned>(r));
    std::lognormal_distribution<float> dist(0.0f, 1.0f);
    for (std::size_t i = 0; i < d; ++i) mean[i] += double(dist(gen)) / n;
  }
  return mean;
}

// The largest |out[i] - mean[i]| / (|mean[i]| + 1).
double worst_error(const std::vector<float>& out, const std::vector<double>& mean) {
  double worst = 0;
  for (std::size_t i = 0; i < mean.size(); ++i)
    worst = std::max(worst, std::fabs(double(out[i]) - mean[i]) / (std::fabs(mean[i]) + 1));
  return worst;
}

// Counts the calls and forwards them to the CPU implementation.
class Counting final : public dme::Compression {
 public:
  std::string_view name() const override { return "counting"; }
  void encode(std::span<const float> chunk, const dme::PayloadHeader& h,
              const dme::CompressionPlan& plan, const dme::PhiloxStream& stream,
              std::vector<std::byte>& out, dme::PhaseTimes& times,
              const dme::Extrema<float>* range) override {
    ++encodes;
    inner_->encode(chunk, h, plan, stream, out, times, range);
  }
  void decode_accumulate(std::span<const std::byte> payload, const dme::DecodeExpectations& expect,
                         std::span<float> acc) override {
    ++decodes;
    inner_->decode_accumulate(payload, expect, acc);
  }
  int encodes = 0, decodes = 0;

 private:
  std::unique_ptr<dme::Compression> inner_ = dme::make_compression(dme::Backend::kCpu);
};

TEST(Compression, CpuImplementationIsCompressChunk) {
  auto comp = dme::make_compression(dme::Backend::kCpu);
  EXPECT_EQ(comp->name(), "cpu");
  const std::vector<float> y = local_input(3000);
  dme::PayloadHeader h;
  h.d = h.padded = h.count = y.size();
  h.s = 8;
  h.bucket_size = 1000;
  const dme::CompressionPlan plan{8, dme::Solver::kQuiverApx, {}, false, 1000};
  const dme::PhiloxStream stream(5, 1, 0, dme::Purpose::kRounding);
  dme::PhaseTimes t1, t2;
  std::vector<std::byte> a, b;
  comp->encode(y, h, plan, stream, a, t1);
  dme::detail::CompressScratch scratch;
  dme::detail::compress_chunk(y, h, plan, stream, scratch, b, t2);
  EXPECT_EQ(a, b);
  std::vector<float> acc(y.size(), 0.0f), want(y.size(), 0.0f);
  comp->decode_accumulate(a, {}, acc);
  dme::decode_accumulate(a, {}, std::span<float>(want));
  EXPECT_EQ(acc, want);
  // A plan that disagrees with the header is refused by name.
  dme::CompressionPlan other = plan;
  other.s = 9;
  EXPECT_THROW(comp->encode(y, h, other, stream, a, t1), dme::Error);
}

// One estimate of x with o through a Counting compression: its counts, its report, and whether
// its mean has the bits of the same estimate through the plain CPU compression.
struct Counted {
  int encodes = 0, decodes = 0;
  dme::Report report;
  bool same_as_plain = false;
};
Counted estimate_counted(const dme::Options& o, const std::vector<float>& x) {
  auto counting = std::make_unique<Counting>();
  const Counting* seen = counting.get();
  dme::MeanEstimator with(MPI_COMM_WORLD, o, std::move(counting));
  dme::MeanEstimator plain(MPI_COMM_WORLD, o);
  std::vector<float> a(x.size()), b(x.size());
  Counted c;
  c.report = with.estimate(x, a);
  plain.estimate(x, b);
  c.encodes = seen->encodes;
  c.decodes = seen->decodes;
  c.same_as_plain = std::memcmp(a.data(), b.data(), 4 * a.size()) == 0;
  return c;
}

TEST(Compression, EveryExchangeRunsThroughTheHeldImplementation) {
  const int n = world_size();
  const std::vector<float> x = local_input(5000);
  for (auto ex : {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast,
                  dme::Exchange::kReduceScatter, dme::Exchange::kReduceScatterInt}) {
    dme::Options o;
    o.exchange = ex;
    o.seed = 21;
    const Counted c = estimate_counted(o, x);
    EXPECT_TRUE(c.same_as_plain) << dme::exchange_name(ex);
    switch (ex) {
      case dme::Exchange::kAllgather:
        EXPECT_EQ(c.encodes, 1);
        EXPECT_EQ(c.decodes, n);
        break;
      case dme::Exchange::kGatherBcast:
        EXPECT_EQ(c.encodes, 1);
        EXPECT_EQ(c.decodes, world_rank() == 0 ? n : 0);
        break;
      case dme::Exchange::kReduceScatter:  // n chunks, one re-quantised; n chunks in, n out
        EXPECT_EQ(c.encodes, n + 1);
        EXPECT_EQ(c.decodes, 2 * n);
        break;
      case dme::Exchange::kReduceScatterInt:  // its own integer codes; the seam holds the vectors
        EXPECT_EQ(c.encodes, 0);
        EXPECT_EQ(c.decodes, 0);
        break;
    }
  }
}

// gather-bcast's compressed downlink: the root's own vector enters the mean exactly, so the
// root encodes only the mean (one payload per chunk) and decodes the other ranks' uplink and its
// own downlink; every other rank encodes its vector and decodes the downlink.
TEST(Compression, TheCompressedDownlinksRootEncodesOnlyTheMean) {
  const int n = world_size();
  const std::vector<float> x = local_input(1 << 14);
  for (const std::size_t chunks : {std::size_t(1), std::size_t(4)}) {
    dme::Options o;
    o.exchange = dme::Exchange::kGatherBcast;
    o.compressed_downlink = true;
    o.pipeline_chunks = chunks;
    o.seed = 22;
    const Counted c = estimate_counted(o, x);
    EXPECT_TRUE(c.same_as_plain) << chunks;
    const dme::Report& rep = c.report;
    const int k = static_cast<int>(chunks);
    EXPECT_EQ(c.encodes, k) << chunks;
    EXPECT_EQ(c.decodes, world_rank() == 0 ? n * k : k) << chunks;
    // The root's payload is the mean's; it receives the others' and sends nothing up.
    if (world_rank() == 0) {
      EXPECT_EQ(rep.payload_bytes * std::uint64_t(n - 1), rep.payload_bytes_sent) << chunks;
      EXPECT_EQ(n == 1, rep.payload_bytes_received == 0) << chunks;
    }
    EXPECT_GT(rep.payload_bytes, 0u);
  }
}

// Another scheme: the payload is the chunk's float32 bytes, decoded by adding them back.
class RawFloats final : public dme::Compression {
 public:
  std::string_view name() const override { return "raw-float32"; }
  void encode(std::span<const float> chunk, const dme::PayloadHeader&, const dme::CompressionPlan&,
              const dme::PhiloxStream&, std::vector<std::byte>& out, dme::PhaseTimes&,
              const dme::Extrema<float>*) override {
    out.resize(chunk.size_bytes());
    std::memcpy(out.data(), chunk.data(), out.size());
  }
  void decode_accumulate(std::span<const std::byte> payload, const dme::DecodeExpectations& expect,
                         std::span<float> acc) override {
    DME_CHECK(payload.size() == 4 * acc.size() && acc.size() == expect.count,
              "raw payload of " << payload.size() << " bytes for " << acc.size() << " values");
    for (std::size_t i = 0; i < acc.size(); ++i) {
      float v;
      std::memcpy(&v, payload.data() + 4 * i, 4);
      acc[i] += v;
    }
  }
};

TEST(Compression, AnotherSchemePlugsInWithoutTouchingTheExchanges) {
  const std::size_t d = 3000;
  const std::vector<double> mean = exact_mean(d);
  const std::vector<float> x = local_input(d);
  for (auto ex : {dme::Exchange::kAllgather, dme::Exchange::kGatherBcast}) {
    dme::Options o;
    o.exchange = ex;
    dme::MeanEstimator est(MPI_COMM_WORLD, o, std::make_unique<RawFloats>());
    std::vector<float> out(d);
    const dme::Report rep = est.estimate(x, out);
    EXPECT_EQ(rep.payload_bytes, 4 * d);  // the rotated vector (overlapped: d), uncompressed
    EXPECT_LT(worst_error(out, mean), 1e-5)
        << dme::exchange_name(ex) << ": exact up to float32 rounding";
  }
}

// A bucket with fewer values than levels: every unbiased solver's levels are its distinct values
// (quiver_approx.h, alq.h), so each rank's rounding is exact and the estimate is the mean up to
// float32 rounding, at 32 bits of levels per value plus the codes. quiver-apx used to send s grid
// levels per bucket (522 bits per coordinate here) and alq took 174 ms per 64-value bucket.
TEST(Compression, BucketsShorterThanSSendTheirValues) {
  const std::size_t d = 3000;
  const std::vector<double> mean = exact_mean(d);
  const std::vector<float> x = local_input(d);
  for (auto solver :
       {dme::Solver::kQuiverApx, dme::Solver::kQuiver, dme::Solver::kAlq, dme::Solver::kAmq}) {
    dme::Options o;
    o.solver = solver;
    o.s = 256;
    o.bucket_size = 16;
    o.seed = 5;
    std::vector<float> out(d);
    const dme::Report rep = dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, out);
    const std::string what(dme::solver_name(solver));
    // 16 levels and 16 eight-bit codes per bucket of 16: 40 bits, plus the headers.
    EXPECT_LT(rep.bits_per_coordinate, 44.0) << what;
    EXPECT_LT(worst_error(out, mean), 1e-5) << what << ": exact up to float32 rounding";
  }
}

// The mean is the sum divided by n, IEEE division: by a power of two the CPU multiplies by the
// exact inverse instead, which must give the same bits (normals, subnormals, zeros of both signs,
// infinities, NaN), and every other divisor still divides.
TEST(Compression, DivideIsIeeeDivisionBitForBit) {
  auto comp = dme::make_compression(dme::Backend::kCpu);
  std::mt19937 gen(7);
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               -3.0f,
                               std::numeric_limits<float>::min(),
                               std::numeric_limits<float>::denorm_min(),
                               -3 * std::numeric_limits<float>::denorm_min(),
                               std::numeric_limits<float>::max(),
                               std::numeric_limits<float>::infinity()};
  for (int i = 0; i < 5000; ++i) {  // random bit patterns: every exponent, subnormals included
    const std::uint32_t bits = static_cast<std::uint32_t>(gen());
    float v;
    std::memcpy(&v, &bits, sizeof v);
    if (!std::isnan(v)) values.push_back(v);
  }
  for (const float divisor :
       {1.0f, 2.0f, 4.0f, 8.0f, 1024.0f, 65536.0f, 0x1p100f, 3.0f, 10.0f, 0.5f, 1000003.0f}) {
    std::vector<float> got = values;
    comp->divide(got, divisor);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const float want = values[i] / divisor;
      ASSERT_EQ(std::memcmp(&got[i], &want, sizeof want), 0)
          << values[i] << " / " << divisor << ": got " << got[i] << ", want " << want;
    }
  }
  std::vector<float> nan = {std::numeric_limits<float>::quiet_NaN()};
  comp->divide(nan, 4.0f);
  EXPECT_TRUE(std::isnan(nan[0]));
}

TEST(Compression, CudaBackendWithoutCudaOrGpuIsAClearError) {
#if !defined(DME_HAVE_CUDA)
  try {
    dme::make_compression(dme::Backend::kCuda);
    FAIL() << "no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA backend"), std::string::npos) << e.what();
  }
#else
  if (dme::cuda::available()) GTEST_SKIP() << "a GPU is present (tests/cuda/ covers it)";
  try {
    dme::make_compression(dme::Backend::kCuda);
    FAIL() << "no error";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
  }
#endif
}

}  // namespace
