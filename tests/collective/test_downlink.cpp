// gather-bcast with a compressed downlink (Options::compressed_downlink): the root requantizes
// the mean with its kDownlink stream and broadcasts the payload. Every rank holds the same
// estimate, the downlink moves a payload instead of 4·d bytes, the estimate stays unbiased over
// rounds, its added error is the one rounding of the mean (above the float downlink's, below
// the float downlink's plus one vector's rounding bound), and only gather-bcast takes it.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <vector>

#include "dme/collective/mean_estimator.h"
#include "scheme_test_support.h"
#include "support/mpi_test_support.h"

namespace {

using dme::test::make_setting;
using dme::test::mean_nmse;
using dme::test::world_rank;
using dme::test::world_size;

dme::Options downlink_options() {
  dme::Options o;
  o.exchange = dme::Exchange::kGatherBcast;
  o.compressed_downlink = true;
  o.s = 16;
  o.seed = 4;
  return o;
}

TEST(CompressedDownlink, EveryRankHoldsTheSameMeanAndTheDownlinkIsAPayload) {
  const std::size_t d = 5000;  // not a power of two: the overlapped layout sends 5000 codes
  std::vector<float> x = dme::test::lognormal_input(d, 3 + unsigned(world_rank())), out(d);
  dme::MeanEstimator est(MPI_COMM_WORLD, downlink_options());
  const dme::Report rep = est.estimate(x, out);
  std::vector<float> root(out);
  MPI_Bcast(root.data(), static_cast<int>(d), MPI_FLOAT, 0, MPI_COMM_WORLD);
  EXPECT_EQ(root, out);
  // 4 bits per rotated coordinate (padded to 8 bytes) plus the frame and 16 levels, not 4·d.
  const std::uint64_t payload = 2504 + 112 + 8 + 64;
  if (world_rank() == 0) {
    EXPECT_EQ(rep.payload_bytes_sent, payload * std::uint64_t(world_size() - 1));
  } else {
    EXPECT_EQ(rep.payload_bytes_received, payload);
  }
}

TEST(CompressedDownlink, UnbiasedAndItsErrorIsOneMoreRounding) {
  const auto st = make_setting(4096, /*identical=*/false);
  dme::Options o = downlink_options();
  dme::test::expect_unbiased_over_rounds(st, o, 48);
  const double compressed = mean_nmse(st, o, 6, nullptr);
  o.compressed_downlink = false;
  const double plain = mean_nmse(st, o, 6, nullptr);
  // The mean's own rounding adds about one vector's error over n (the mean's norm is near the
  // inputs'); allow 3x that.
  const double vector_error = plain * world_size();
  // The root's own vector enters the mean exactly, so the mean holds n - 1 uplink roundings
  // and one of the mean (with one rank: one rounding, like the float downlink's own).
  if (world_size() > 1) {
    EXPECT_GT(compressed, plain);
  }
  EXPECT_LT(compressed, plain + 3 * vector_error) << compressed << " vs " << plain;
}

// Pipelined (Options::pipeline_chunks > 1): the root requantizes each chunk of the mean to one
// set of downlink levels as it arrives, so the estimate is the same for every chunk count and
// thread count, on every rank; unbiased over rounds, its added error one rounding of the mean.
// With rotation blocks, each rank rotates the mean's blocks back as their chunks arrive.
TEST(CompressedDownlink, PipelinedIsTheSameForEveryChunkCount) {
  for (std::size_t d : {std::size_t(1) << 16, std::size_t(100003)}) {
    for (std::uint32_t s : {16u, 10u}) {
      for (std::size_t block : {std::size_t(0), std::size_t(4096)}) {
        dme::Options o = downlink_options();
        o.s = s;
        o.rotation_block = block;
        const std::vector<float> x = dme::test::lognormal_input(d, 30 + unsigned(world_rank()));
        std::vector<float> first(d);
        bool have_first = false;
        for (std::size_t chunks : {2u, 5u, 16u}) {
          for (int threads : {1, 2}) {
            o.pipeline_chunks = chunks;
            o.threads = threads;
            std::vector<float> mean(d);
            dme::MeanEstimator est(MPI_COMM_WORLD, o);
            const dme::Report rep = est.estimate(x, mean);
            EXPECT_TRUE(dme::test::identical_on_all_ranks(mean)) << chunks << " chunks";
            if (!have_first) {
              first = mean;
              have_first = true;
            }
            EXPECT_TRUE(dme::test::same_bits(mean, first))
                << "d " << d << ", s " << s << ", block " << block << ", " << chunks << " chunks, "
                << threads;
            // The downlink is payloads (about 4 bits per coordinate at s = 16), not 4·d bytes.
            const std::uint64_t down =
                world_rank() == 0
                    ? rep.payload_bytes_sent / std::uint64_t(std::max(1, world_size() - 1))
                    : rep.payload_bytes_received;
            if (world_size() > 1) {
              EXPECT_LT(down, d * (s == 16 ? 4 : 3.4) / 8 + chunks * 200);
              EXPECT_GT(down, d * 3 / 8);
            }
          }
        }
      }
    }
  }
}

TEST(CompressedDownlink, PipelinedIsUnbiasedAndItsErrorIsOneMoreRounding) {
  const auto st = make_setting(16384, /*identical=*/false);
  dme::Options o = downlink_options();
  o.pipeline_chunks = 4;
  dme::test::expect_unbiased_over_rounds(st, o, 48);
  const double compressed = mean_nmse(st, o, 6, nullptr);
  o.compressed_downlink = false;
  o.pipeline_chunks = 1;
  const double plain = mean_nmse(st, o, 6, nullptr);
  const double vector_error = plain * world_size();
  if (world_size() > 1) {
    EXPECT_GT(compressed, plain);
  }
  EXPECT_LT(compressed, plain + 3 * vector_error) << compressed << " vs " << plain;
}

TEST(CompressedDownlink, EachRanksPhasesAddUpToNoMoreThanItsTotal) {
  // Every phase is timed once: the root's requantization of the mean counts as its solve and
  // round+pack, not twice (a timer around the encode used to add it again). The phases are
  // disjoint spans of the round, so on each rank they sum to at most its total.
  const std::size_t d = 1 << 16;
  const std::vector<float> x = dme::test::lognormal_input(d, 5 + unsigned(world_rank()));
  std::vector<float> out(d);
  for (const std::size_t chunks : {std::size_t(1), std::size_t(4)}) {
    dme::Options o = downlink_options();
    o.pipeline_chunks = chunks;
    dme::MeanEstimator est(MPI_COMM_WORLD, o);
    for (int round = 0; round < 3; ++round) {
      const dme::PhaseTimes t = est.estimate(x, out).times;
      const double phases = t.rotate_ms + t.solve_ms + t.round_pack_ms + t.transfer_ms +
                            t.exchange_ms + t.decode_ms + t.inverse_ms;
      EXPECT_LE(phases, t.total_ms * 1.001 + 0.01)
          << chunks << " chunks, round " << round << ": rotate " << t.rotate_ms << ", solve "
          << t.solve_ms << ", round+pack " << t.round_pack_ms << ", exchange " << t.exchange_ms
          << ", decode " << t.decode_ms << ", inverse " << t.inverse_ms;
    }
  }
}

TEST(CompressedDownlink, OnlyGatherBcastTakesIt) {
  dme::Options o = downlink_options();
  o.exchange = dme::Exchange::kAllgather;
  EXPECT_THROW(dme::MeanEstimator(MPI_COMM_WORLD, o), dme::Error);
  o.exchange = dme::Exchange::kGatherBcast;
  o.scheme = dme::Scheme::kAsqShared;  // the root's dither rides on its kDownlink stream
  const auto st = make_setting(2048, /*identical=*/true);
  EXPECT_GT(mean_nmse(st, o, 2, nullptr), 0.0);
}

}  // namespace
