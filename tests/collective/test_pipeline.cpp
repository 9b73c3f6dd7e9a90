// The pipelined allgather (Options::pipeline_chunks): the mean equals a one-rank computation of
// the same chunk payloads bit for bit, on every rank and for every thread count; its error stays
// that of allgather; and a failure in any chunk, while earlier chunks are in flight, is the same
// error on every rank instead of a hang.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "dme/collective/compression.h"
#include "dme/collective/detail/round.h"
#include "dme/collective/mean_estimator.h"
#include "dme/core/error.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::world_rank;
using dme::test::world_size;

std::vector<float> input_of(int rank, std::size_t d) {
  std::mt19937 gen(500 + static_cast<unsigned>(rank));
  std::lognormal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(d);
  for (auto& v : x) v = dist(gen);
  return x;
}

// What every rank must get: each rank's vector rotated, each chunk encoded with that rank's
// stream, all decoded in rank order into one sum, divided by n and rotated back, computed here
// alone with the same compression calls.
std::vector<float> reference_mean(const dme::Options& o, std::size_t d, std::size_t chunks) {
  const int n = world_size();
  auto c = dme::make_compression(dme::Backend::kCpu);
  const dme::RotationKey key{o.seed, o.first_round, o.rotations, d, 0, dme::resolved_layout(o)};
  const std::uint64_t padded = dme::padded_length(d, key.layout);
  std::vector<float> sum(padded, 0.0f);
  const dme::CompressionPlan plan = dme::compression_plan(o);
  for (int r = 0; r < n; ++r) {
    const std::vector<float> x = input_of(r, d);
    std::vector<float> y(padded);
    dme::Extrema<float> range;
    c->rotate(key, x, y, range);
    const dme::PhiloxStream stream(o.seed, o.first_round, static_cast<std::uint32_t>(r),
                                   dme::Purpose::kRounding);
    for (std::size_t k = 0; k < chunks; ++k) {
      const std::uint64_t first = dme::detail::pipeline_bound(padded, chunks, k);
      const std::uint64_t count = dme::detail::pipeline_bound(padded, chunks, k + 1) - first;
      dme::PayloadHeader h;
      h.d = d;
      h.padded = padded;
      h.s = static_cast<std::uint32_t>(o.s);
      h.rotations = static_cast<std::uint8_t>(o.rotations);
      h.seed = o.seed;
      h.round = o.first_round;
      h.rank = static_cast<std::uint32_t>(r);
      h.first = first;
      h.count = count;
      std::vector<std::byte> payload;
      dme::PhaseTimes t;
      c->encode(std::span<const float>(y).subspan(first, count), h, plan, stream, payload, t);
      c->decode_accumulate(payload, {}, std::span<float>(sum).subspan(first, count));
    }
  }
  c->divide(sum, static_cast<float>(n));
  c->inverse(key, sum);
  sum.resize(d);
  return sum;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), 4 * a.size()) == 0;
}

TEST(Pipeline, MeanIsTheChunkPayloadsDecodedBitForBit) {
  // A power of two and an awkward length (overlapped rotation; chunk bounds not powers of two).
  for (std::size_t d : {std::size_t(1) << 16, std::size_t(100003)}) {
    for (std::size_t chunks : {2u, 7u}) {
      dme::Options o;
      o.seed = 77;
      o.pipeline_chunks = chunks;
      const std::vector<float> x = input_of(world_rank(), d);
      dme::MeanEstimator est(MPI_COMM_WORLD, o);
      std::vector<float> mean(d);
      const dme::Report rep = est.estimate(x, mean);
      EXPECT_TRUE(same_bits(mean, reference_mean(o, d, chunks))) << "d " << d << ", " << chunks;
      EXPECT_TRUE(dme::test::identical_on_all_ranks(mean));
      EXPECT_GT(rep.payload_bytes, d / 2);  // 4 bits per coordinate and a header per chunk
      EXPECT_LT(rep.bits_per_coordinate, 4.0 + 8.0 * 400 * chunks / double(d));
      // Two threads per rank: the same bytes.
      o.threads = 2;
      dme::MeanEstimator threaded(MPI_COMM_WORLD, o);
      std::vector<float> again(d);
      threaded.estimate(x, again);
      EXPECT_TRUE(same_bits(again, mean));
    }
  }
}

TEST(Pipeline, ShortVectorsUseFewerChunks) {
  EXPECT_EQ(dme::detail::pipeline_chunk_count(1000, 8), 1u);
  EXPECT_EQ(dme::detail::pipeline_chunk_count(3 * dme::kMinPipelineChunk + 5, 8), 3u);
  EXPECT_EQ(dme::detail::pipeline_chunk_count(std::uint64_t(1) << 24, 16), 16u);
  // One effective chunk is the plain allgather.
  const std::size_t d = 3000;
  dme::Options o;
  o.seed = 5;
  const std::vector<float> x = input_of(world_rank(), d);
  std::vector<float> plain(d), piped(d);
  dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, plain);
  o.pipeline_chunks = 8;
  dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, piped);
  EXPECT_TRUE(same_bits(plain, piped));
}

TEST(Pipeline, ErrorIsThatOfAllgather) {
  // Chunks have their own levels, like buckets: the NMSE of the mean stays within 1.3x of the
  // single payload's (averaged over rounds; at this size each is within a few percent).
  const std::size_t d = std::size_t(1) << 16;
  const std::vector<float> x = input_of(world_rank(), d);
  std::vector<float> exact(d);
  MPI_Allreduce(x.data(), exact.data(), static_cast<int>(d), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  double norm2 = 0;
  for (auto& v : exact) {
    v /= static_cast<float>(world_size());
    norm2 += double(v) * v;
  }
  double nmse[2] = {0, 0};
  for (int p = 0; p < 2; ++p) {
    dme::Options o;
    o.seed = 9;
    o.pipeline_chunks = p ? 8 : 1;
    dme::MeanEstimator est(MPI_COMM_WORLD, o);
    std::vector<float> mean(d);
    for (int round = 0; round < 6; ++round) {
      est.estimate(x, mean);
      double err = 0;
      for (std::size_t i = 0; i < d; ++i) err += (double(mean[i]) - exact[i]) * (mean[i] - exact[i]);
      nmse[p] += err / norm2 / 6;
    }
  }
  EXPECT_LT(nmse[1], 1.3 * nmse[0]) << nmse[1] << " vs " << nmse[0];
  EXPECT_GT(nmse[1], nmse[0] / 1.3) << nmse[1] << " vs " << nmse[0];
}

// The CPU compression, with one rank failing to encode chunk `fail_at` or corrupting its
// payload of that chunk.
class Faulty final : public dme::Compression {
 public:
  Faulty(int rank, std::uint64_t fail_first, bool corrupt)
      : rank_(rank), fail_first_(fail_first), corrupt_(corrupt) {}
  std::string_view name() const override { return "faulty"; }
  void encode(std::span<const float> chunk, const dme::PayloadHeader& h,
              const dme::CompressionPlan& plan, const dme::PhiloxStream& stream,
              std::vector<std::byte>& out, dme::PhaseTimes& times,
              const dme::Extrema<float>* range) override {
    const bool mine = world_rank() == rank_ && h.first == fail_first_;
    DME_CHECK(!mine || corrupt_, "injected encode failure at coordinate " << h.first);
    inner_->encode(chunk, h, plan, stream, out, times, range);
    if (mine) out[out.size() / 2] ^= std::byte{0x5a};
  }
  void decode_accumulate(std::span<const std::byte> payload, const dme::DecodeExpectations& e,
                         std::span<float> acc) override {
    inner_->decode_accumulate(payload, e, acc);
  }

 private:
  int rank_;
  std::uint64_t fail_first_;
  bool corrupt_;
  std::unique_ptr<dme::Compression> inner_ = dme::make_compression(dme::Backend::kCpu);
};

TEST(Pipeline, AFailingChunkIsTheSameErrorOnEveryRank) {
  const int n = world_size();
  const std::size_t d = std::size_t(1) << 16, chunks = 8;
  const std::vector<float> x = input_of(world_rank(), d);
  for (bool corrupt : {false, true}) {
    for (std::size_t k : {std::size_t(0), std::size_t(3), chunks - 1}) {
      const int bad = n - 1;
      dme::Options o;
      o.pipeline_chunks = chunks;
      const std::uint64_t first = dme::detail::pipeline_bound(d, chunks, k);
      dme::MeanEstimator est(MPI_COMM_WORLD, o, std::make_unique<Faulty>(bad, first, corrupt));
      std::vector<float> mean(d);
      try {
        est.estimate(x, mean);
        ADD_FAILURE() << "no error for chunk " << k << (corrupt ? " (corrupt)" : "");
      } catch (const dme::Error& e) {
        const std::string what = e.what();
        if (corrupt) {
          EXPECT_NE(what.find("checksum"), std::string::npos) << what;
        } else {
          EXPECT_EQ(e.rank(), bad) << what;
          EXPECT_NE(what.find("injected encode failure at coordinate " + std::to_string(first)),
                    std::string::npos)
              << what;
        }
      }
      // Every rank got here: nothing was left waiting.
      MPI_Barrier(MPI_COMM_WORLD);
    }
  }
}

TEST(Pipeline, OptionsAreChecked) {
  dme::Options o;
  o.pipeline_chunks = 0;
  EXPECT_THROW(dme::validate(o), dme::Error);
  o.pipeline_chunks = dme::kMaxPipelineChunks + 1;
  EXPECT_THROW(dme::validate(o), dme::Error);
  o.pipeline_chunks = 4;
  o.exchange = dme::Exchange::kReduceScatter;
  try {
    dme::validate(o);
    FAIL() << "pipelined reduce-scatter accepted";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("reduce-scatter"), std::string::npos) << e.what();
  }
  o.exchange = dme::Exchange::kAllgather;
  o.shared_rotation = false;
  EXPECT_THROW(dme::validate(o), dme::Error);
}

}  // namespace
