// The pipelined allgather (Options::pipeline_chunks): the mean equals the plain allgather's bit
// for bit, for every chunk count and thread count, round after round, also with buckets and a
// streamed rotation; and a failure in any
// chunk, while earlier chunks are in flight, is the same error on every rank instead of a hang.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
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

using dme::test::same_bits;

std::vector<float> input_of(int rank, std::size_t d) {
  return dme::test::lognormal_input(d, 500 + static_cast<unsigned>(rank));
}

// The mean of x with options o pipelined in 2, 7 and 24 chunks, on 1 and 3 threads, is `plain`
// bit for bit.
void expect_every_chunking_keeps_the_bits(dme::Options o, const std::vector<float>& x,
                                          const std::vector<float>& plain,
                                          const std::string& where) {
  for (std::size_t chunks : {2u, 7u, 24u}) {
    for (int threads : {1, 3}) {
      o.pipeline_chunks = chunks;
      o.threads = threads;
      std::vector<float> mean(x.size());
      dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, mean);
      EXPECT_TRUE(same_bits(mean, plain))
          << where << ", " << chunks << " chunks, " << threads << " threads";
    }
  }
}

TEST(Pipeline, MeanIsThePlainAllgathersBitForBit) {
  // A power of two and an awkward length (overlapped rotation; chunk bounds not powers of two),
  // fixed width (s = 16) and mixed radix (s = 10), stochastic and nearest rounding.
  for (std::size_t d : {std::size_t(1) << 16, std::size_t(100003)}) {
    for (std::size_t s : {16u, 10u}) {
      for (auto solver : {dme::Solver::kQuiverApx, dme::Solver::kKmeans}) {
        dme::Options o;
        o.seed = 77;
        o.s = s;
        o.solver = solver;
        const std::vector<float> x = input_of(world_rank(), d);
        std::vector<float> plain(d);
        const dme::Report plain_report = dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, plain);
        for (std::size_t chunks : {2u, 7u, 24u}) {
          for (int threads : {1, 2}) {
            o.pipeline_chunks = chunks;
            o.threads = threads;
            dme::MeanEstimator est(MPI_COMM_WORLD, o);
            std::vector<float> mean(d);
            const dme::Report rep = est.estimate(x, mean);
            EXPECT_TRUE(same_bits(mean, plain))
                << "d " << d << ", s " << s << ", " << chunks << " chunks, " << threads;
            EXPECT_TRUE(dme::test::identical_on_all_ranks(mean));
            // A header and the levels per chunk on top of the single payload.
            const std::size_t effective = dme::detail::pipeline_chunk_count(d, chunks);
            EXPECT_GE(rep.payload_bytes, plain_report.payload_bytes);
            EXPECT_LE(rep.payload_bytes, plain_report.payload_bytes + effective * (200 + 4 * s));
          }
        }
      }
    }
  }
}

// Rotation blocks: the blocks finished while chunks are in flight give the plain allgather's
// mean bit for bit too, whether the chunks cut blocks or not, with a tail block or none, and
// with one whole block and a tail (nothing can finish early).
TEST(Pipeline, RotationBlocksFinishedOnTheWayKeepTheBits) {
  for (std::size_t d : {std::size_t(1) << 16, std::size_t(100003), std::size_t(6000)}) {
    dme::Options o;
    o.seed = 41;
    o.rotation_block = 4096;
    const std::vector<float> x = input_of(world_rank(), d);
    std::vector<float> plain(d);
    dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, plain);
    expect_every_chunking_keeps_the_bits(o, x, plain, "d " + std::to_string(d));
    // Blocks are another rotation (so the comparison above is not of two whole-vector
    // rotations), except one whole block and a tail: that is the overlapped layout itself.
    const std::size_t block = o.rotation_block;
    o.rotation_block = 0;
    o.pipeline_chunks = 1;
    o.threads = 1;
    std::vector<float> whole(d);
    dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, whole);
    EXPECT_EQ(same_bits(whole, plain), d < 2 * block) << d;
  }
}

// With buckets, chunks are whole buckets with their own levels; with rotation blocks too, the
// forward rotation streams: each chunk (whole buckets and whole blocks) is rotated just before
// it is encoded. The mean is the one-payload mean with the same buckets, bit for bit: for
// allgather, and for gather-bcast's compressed downlink (whose root solves each bucket of the
// mean's levels as its chunk completes, as the one payload does for the whole mean).
TEST(Pipeline, StreamedRotationKeepsTheBits) {
  constexpr std::size_t kBlock = 4096;
  for (bool downlink : {false, true}) {
    for (std::size_t d :
         {std::size_t(1) << 16, std::size_t(100003), 3 * kBlock, std::size_t(6000)}) {
      for (std::size_t bucket : {std::size_t(1024), kBlock, 2 * kBlock}) {
        for (std::size_t block : {kBlock, std::size_t(0)}) {
          if (block == 0 && bucket != kBlock) continue;  // buckets without blocks: one case
          dme::Options o;
          o.seed = 43;
          o.rotation_block = block;
          o.bucket_size = bucket;
          if (downlink) {
            o.exchange = dme::Exchange::kGatherBcast;
            o.compressed_downlink = true;
          }
          const std::vector<float> x = input_of(world_rank(), d);
          std::vector<float> plain(d);
          dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, plain);
          const std::string where = std::string(downlink ? "gather-bcast" : "allgather") + ", d " +
                                    std::to_string(d) + ", bucket " + std::to_string(bucket) +
                                    ", block " + std::to_string(block);
          expect_every_chunking_keeps_the_bits(o, x, plain, where);
          o.pipeline_chunks = 24;  // in place, pipelined
          // In place: the streamed rotation still reads the input while chunks are decoded.
          std::vector<float> in_place = x;
          dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(in_place, in_place);
          EXPECT_TRUE(same_bits(in_place, plain)) << "in place, " << where;
        }
      }
    }
  }
}

TEST(Pipeline, BucketedChunksAreWholeBucketsAndBlocks) {
  dme::Options o;
  o.pipeline_chunks = 256;
  o.bucket_size = 65536;
  o.rotation_block = 65536;
  const std::uint64_t big = std::uint64_t(1) << 24;
  const std::vector<std::uint64_t> b = dme::detail::pipeline_bounds(o, big, big, true);
  ASSERT_EQ(b.size(), 257u);
  for (std::size_t k = 0; k < b.size(); ++k) EXPECT_EQ(b[k], k * 65536) << k;
  // 100003 = 24 blocks of 4096 and a tail: 23 independent blocks, then the last chunk holds
  // block 23 and the tail. Buckets of 1024 divide the blocks; the chunks are whole blocks.
  o.pipeline_chunks = 1000;
  o.bucket_size = 1024;
  o.rotation_block = 4096;
  const std::vector<std::uint64_t> c = dme::detail::pipeline_bounds(o, 100003, 100003, true);
  ASSERT_EQ(c.size(), 25u);
  for (std::size_t k = 0; k < 24; ++k) EXPECT_EQ(c[k], k * 4096) << k;
  EXPECT_EQ(c.back(), 100003u);
  // Without a streamed rotation the chunks are whole buckets of 1024 (at least 4096 long).
  const std::vector<std::uint64_t> e = dme::detail::pipeline_bounds(o, 100003, 100003, false);
  ASSERT_EQ(e.size(), 100003 / dme::kMinPipelineChunk + 1);
  for (std::size_t k = 0; k + 1 < e.size(); ++k) {
    EXPECT_EQ(e[k] % 1024, 0u) << k;
    EXPECT_GE(e[k + 1] - e[k], 4096u) << k;
  }
  // Buckets of twice the block: chunks of whole buckets.
  o.bucket_size = 8192;
  const std::vector<std::uint64_t> f = dme::detail::pipeline_bounds(o, 100003, 100003, true);
  for (std::size_t k = 0; k + 1 < f.size(); ++k) EXPECT_EQ(f[k] % 8192, 0u) << k;
  EXPECT_EQ(f.size(), 13u);  // 11 whole buckets of independent blocks, then the rest
}

TEST(Pipeline, EveryRoundMatches) {
  const std::size_t d = std::size_t(1) << 15;
  dme::Options o;
  o.seed = 3;
  dme::MeanEstimator plain(MPI_COMM_WORLD, o);
  o.pipeline_chunks = 5;
  dme::MeanEstimator piped(MPI_COMM_WORLD, o);
  for (int round = 0; round < 3; ++round) {
    const std::vector<float> x = input_of(world_rank() + 10 * round, d);
    std::vector<float> a(d), b(d);
    plain.estimate(x, a);
    piped.estimate(x, b);
    EXPECT_TRUE(same_bits(a, b)) << "round " << round;
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

// The CPU compression, with one rank failing to encode the chunk that starts at fail_first or
// corrupting its payload of that chunk (the `occurrence`-th such encode: the root of a compressed
// downlink encodes each chunk twice, its uplink payload and then the mean's).
class Faulty final : public dme::Compression {
 public:
  Faulty(int rank, std::uint64_t fail_first, bool corrupt, int occurrence = 1)
      : rank_(rank), fail_first_(fail_first), corrupt_(corrupt), occurrence_(occurrence) {}
  std::string_view name() const override { return "faulty"; }
  void encode(std::span<const float> chunk, const dme::PayloadHeader& h,
              const dme::CompressionPlan& plan, const dme::PhiloxStream& stream,
              std::vector<std::byte>& out, dme::PhaseTimes& times,
              const dme::Extrema<float>* range) override {
    const bool mine = world_rank() == rank_ && h.first == fail_first_ && ++seen_ == occurrence_;
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
  int occurrence_, seen_ = 0;
  std::unique_ptr<dme::Compression> inner_ = dme::make_compression(dme::Backend::kCpu);
};

TEST(Pipeline, AFailingChunkIsTheSameErrorOnEveryRank) {
  const int n = world_size();
  const std::size_t d = std::size_t(1) << 16, chunks = 8;
  const std::vector<float> x = input_of(world_rank(), d);
  for (bool streamed : {false, true}) {  // streamed: buckets and rotation blocks (round.h)
    for (bool corrupt : {false, true}) {
      for (std::size_t k : {std::size_t(0), std::size_t(3), chunks - 1}) {
        const int bad = n - 1;
        dme::Options o;
        o.pipeline_chunks = chunks;
        if (streamed) {
          o.rotation_block = 4096;
          o.bucket_size = 8192;
        }
        const std::uint64_t first = dme::detail::pipeline_bounds(o, d, d, streamed)[k];
        dme::MeanEstimator est(MPI_COMM_WORLD, o, std::make_unique<Faulty>(bad, first, corrupt));
        std::vector<float> in_place = x;  // a failed estimate in place keeps its input
        try {
          est.estimate(in_place, in_place);
          ADD_FAILURE() << "no error for chunk " << k << (corrupt ? " (corrupt)" : "")
                        << (streamed ? ", streamed" : "");
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
        EXPECT_TRUE(same_bits(in_place, x)) << "chunk " << k << (corrupt ? " (corrupt)" : "");
        // Every rank got here: nothing was left waiting.
        MPI_Barrier(MPI_COMM_WORLD);
      }
    }
  }
}

// gather-bcast's pipelined compressed downlink: a rank failing to encode an uplink chunk, a
// corrupt uplink chunk (the root's decoding fails), the root failing to requantize a chunk of
// the mean, and a corrupt downlink chunk (every rank's decoding fails) are each the same error
// on every rank, with nothing left waiting.
TEST(Pipeline, CompressedDownlinkFailuresAreTheSameErrorOnEveryRank) {
  const int n = world_size();
  const std::size_t d = std::size_t(1) << 16, chunks = 8;
  const std::vector<float> x = input_of(world_rank(), d);
  struct Case {
    int rank, occurrence;
    bool corrupt;
    const char* expect;
  };
  // Rank n - 1's uplink; then the root's downlink, its only encode of the chunk (its own
  // coordinates enter the mean exactly: it encodes no uplink; with one rank both cases are it).
  const Case cases[] = {{n - 1, 1, false, "injected encode failure"},
                        {n - 1, 1, true, "checksum"},
                        {0, 1, false, "injected encode failure"},
                        {0, 1, true, "checksum"}};
  for (bool streamed : {false, true}) {  // streamed: buckets and rotation blocks (round.h)
    for (const Case& c : cases) {
      for (std::size_t k : {std::size_t(0), std::size_t(3), chunks - 1}) {
        dme::Options o;
        o.exchange = dme::Exchange::kGatherBcast;
        o.compressed_downlink = true;
        o.pipeline_chunks = chunks;
        if (streamed) {
          o.rotation_block = 4096;
          o.bucket_size = 8192;
        }
        const std::uint64_t first = dme::detail::pipeline_bounds(o, d, d, streamed)[k];
        dme::MeanEstimator est(MPI_COMM_WORLD, o,
                               std::make_unique<Faulty>(c.rank, first, c.corrupt, c.occurrence));
        std::vector<float> mean(d);
        const std::string where = std::string(c.expect) + " from rank " + std::to_string(c.rank) +
                                  " (encode " + std::to_string(c.occurrence) + ") at chunk " +
                                  std::to_string(k) + (streamed ? ", streamed" : "");
        try {
          est.estimate(x, mean);
          ADD_FAILURE() << "no error: " << where;
        } catch (const dme::Error& e) {
          const std::string what = e.what();
          EXPECT_NE(what.find(c.expect), std::string::npos) << where << ": " << what;
          if (!c.corrupt) {
            EXPECT_EQ(e.rank(), c.rank) << where << ": " << what;
          }
        }
        MPI_Barrier(MPI_COMM_WORLD);
        // The estimator works again in the next round.
        dme::MeanEstimator again(MPI_COMM_WORLD, o);
        EXPECT_NO_THROW(again.estimate(x, mean)) << where;
      }
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
  o.shared_rotation = true;
  // Buckets: allgather moves whole buckets; with rotation blocks, whole blocks too.
  o.bucket_size = 1000;
  EXPECT_NO_THROW(dme::validate(o));
  o.rotation_block = 4096;
  try {
    dme::validate(o);
    FAIL() << "buckets of 1000 with rotation blocks of 4096 accepted";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bucket size 1000 and rotation block 4096"),
              std::string::npos)
        << e.what();
  }
  for (std::size_t bucket : {1024u, 4096u, 3u * 4096u}) {
    o.bucket_size = bucket;
    EXPECT_NO_THROW(dme::validate(o)) << bucket;
  }
  o.exchange = dme::Exchange::kGatherBcast;
  o.compressed_downlink = true;
  EXPECT_NO_THROW(dme::validate(o));  // streamed too
  o.compressed_downlink = false;
  EXPECT_THROW(dme::validate(o), dme::Error);  // the float32 downlink is not pipelined
  o.exchange = dme::Exchange::kAllgather;
  o.rotation_block = 0;
  o.bucket_size = 0;
  o.scheme = dme::Scheme::kAsqShared;
  EXPECT_THROW(dme::validate(o), dme::Error);
  o.scheme = dme::Scheme::kAsq;
  EXPECT_NO_THROW(dme::validate(o));
  // gather-bcast pipelines its compressed downlink, not the float32 one.
  o.exchange = dme::Exchange::kGatherBcast;
  try {
    dme::validate(o);
    FAIL() << "pipelined gather-bcast with the float32 downlink accepted";
  } catch (const dme::Error& e) {
    EXPECT_NE(std::string(e.what()).find("float32 downlink"), std::string::npos) << e.what();
  }
  o.compressed_downlink = true;
  EXPECT_NO_THROW(dme::validate(o));
}

// A streamed round checks its input chunk by chunk as it rotates it (no pass of its own first).
// A NaN or an Inf in any chunk of one rank, or a value large enough to need scaling, makes every
// rank start the round again with the check first: the same error, on every rank, as the round
// that checks first (pipeline_chunks = 1), or the same scaled mean, bit for bit.
TEST(Pipeline, StreamedRoundsCheckTheirInputOnTheWay) {
  const int n = world_size(), bad = n - 1;
  const std::size_t d = std::size_t(1) << 16;
  for (bool downlink : {false, true}) {
    dme::Options o;
    o.seed = 17;
    o.rotation_block = 4096;
    o.bucket_size = 8192;
    if (downlink) {
      o.exchange = dme::Exchange::kGatherBcast;
      o.compressed_downlink = true;
    }
    const std::string where = downlink ? "gather-bcast" : "allgather";
    for (std::size_t at : {std::size_t(5), d / 2 + 3, d - 1}) {  // first, middle, last chunk
      for (float value : {std::numeric_limits<float>::quiet_NaN(),
                          -std::numeric_limits<float>::infinity(), 3e37f}) {
        std::vector<float> x = input_of(world_rank(), d);
        if (world_rank() == bad) x[at] = value;
        // The round that checks first, then the streamed one (8 chunks), in a fresh estimator
        // each (round 0 both), in place and not.
        std::vector<float> first(d), streamed(d);
        std::string first_error, streamed_error;
        int first_rank = -2, streamed_rank = -2;
        dme::Report first_report, streamed_report;
        for (std::size_t chunks : {std::size_t(1), std::size_t(8)}) {
          o.pipeline_chunks = chunks;
          std::vector<float>& out = chunks == 1 ? first : streamed;
          try {
            (chunks == 1 ? first_report : streamed_report) =
                dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(x, out);
          } catch (const dme::Error& e) {
            (chunks == 1 ? first_error : streamed_error) = e.what();
            (chunks == 1 ? first_rank : streamed_rank) = e.rank();
          }
        }
        const std::string what = where + ", " + std::to_string(value) + " at " + std::to_string(at);
        EXPECT_EQ(streamed_error, first_error) << what;
        EXPECT_EQ(streamed_rank, first_rank) << what;
        if (std::isfinite(value)) {  // scaled: the same mean
          EXPECT_TRUE(first_error.empty()) << what << ": " << first_error;
          EXPECT_GT(first_report.scale_exponent, 0) << what;
          EXPECT_EQ(streamed_report.scale_exponent, first_report.scale_exponent) << what;
          EXPECT_TRUE(same_bits(streamed, first)) << what;
        } else {
          EXPECT_EQ(first_rank, bad) << what << ": " << first_error;
          EXPECT_NE(first_error.find("index " + std::to_string(at)), std::string::npos)
              << what << ": " << first_error;
          std::vector<float> in_place = x;  // a failed estimate in place keeps its input
          o.pipeline_chunks = 8;
          EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o).estimate(in_place, in_place),
                       dme::Error)
              << what;
          EXPECT_TRUE(same_bits(in_place, x)) << what;
        }
        MPI_Barrier(MPI_COMM_WORLD);  // every rank got here: nothing was left waiting
      }
    }
  }
}

}  // namespace
