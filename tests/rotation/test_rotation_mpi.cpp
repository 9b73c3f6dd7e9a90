#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dme/core/mpi_helpers.h"
#include "dme/rotation/adaptive_count.h"
#include "dme/rotation/rht.h"

namespace {

TEST(RotationMpi, SameSeedAndRoundGiveSameRotationOnEveryRank) {
  dme::mpi::Comm comm(MPI_COMM_WORLD);
  const std::size_t d = 5000;
  dme::Rotation rot(2718, 3, 2, d);
  for (int j = 0; j < 2; ++j) {
    auto mask = rot.sign_mask(j);
    std::vector<std::uint64_t> mine(mask.begin(), mask.end()), lo(mine.size()), hi(mine.size());
    DME_MPI_CHECK(
        MPI_Allreduce(mine.data(), lo.data(), int(mine.size()), MPI_UINT64_T, MPI_MIN, comm.get()));
    DME_MPI_CHECK(
        MPI_Allreduce(mine.data(), hi.data(), int(mine.size()), MPI_UINT64_T, MPI_MAX, comm.get()));
    EXPECT_EQ(lo, mine);
    EXPECT_EQ(hi, mine);
  }
  // Rotating the same vector gives bit-identical results on every rank.
  std::vector<float> x(d), y(rot.padded());
  std::mt19937 g(5);
  for (auto& v : x) v = std::normal_distribution<float>()(g);
  rot.forward(x, y);
  std::vector<float> y0 = y;
  DME_MPI_CHECK(MPI_Bcast(y0.data(), int(y0.size()), MPI_FLOAT, 0, comm.get()));
  EXPECT_EQ(y, y0);
}

// The agreement across ranks (the largest count) is MeanEstimator's: test_mean_estimator.cpp,
// AutoRotationsAgreeAcrossRanks.
TEST(RotationMpi, EachRankCountsItsOwnInput) {
  dme::mpi::Comm comm(MPI_COMM_WORLD);
  // Rank 1 holds a one-hot vector (needs 2), the others Gaussian-like data (1).
  const std::size_t d = 1 << 12;
  std::vector<float> x(d, 0.0f);
  if (comm.rank() == 1) {
    x[7] = 1.0f;
  } else {
    std::mt19937 g(comm.rank());
    for (auto& v : x) v = std::normal_distribution<float>()(g);
  }
  EXPECT_EQ(dme::adaptive_rotation_count(x), comm.rank() == 1 ? 2 : 1);
}

}  // namespace
