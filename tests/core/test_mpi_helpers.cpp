#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <vector>

#include <new>
#include <stdexcept>
#include <string>

#include "dme/core/agree.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/rng.h"

namespace {

TEST(MpiHelpers, RankAndSizeWrappers) {
  int r = -1, n = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  EXPECT_EQ(dme::mpi::comm_rank(MPI_COMM_WORLD), r);
  EXPECT_EQ(dme::mpi::comm_size(MPI_COMM_WORLD), n);
  dme::mpi::Comm dup(MPI_COMM_WORLD);
  EXPECT_EQ(dup.rank(), r);
  EXPECT_EQ(dup.size(), n);
  EXPECT_NE(dup.get(), MPI_COMM_WORLD);
}

TEST(MpiHelpers, TypeMapping) {
  EXPECT_EQ(dme::mpi::type_from<float>(), MPI_FLOAT);
  EXPECT_EQ(dme::mpi::type_from<double>(), MPI_DOUBLE);
  EXPECT_EQ(dme::mpi::type_from<std::uint64_t>(), MPI_UINT64_T);
  EXPECT_EQ(dme::mpi::type_from<const std::int32_t>(), MPI_INT32_T);
}

TEST(MpiHelpers, FailedCallBecomesErrorWithMpiText) {
  dme::mpi::Comm comm(MPI_COMM_WORLD);
  int x = 1, y = 0;
  // A negative count is invalid; MPI_ERRORS_RETURN on the duplicate makes it an error code.
  try {
    DME_MPI_CHECK(MPI_Allreduce(&x, &y, -1, MPI_INT, MPI_SUM, comm.get()));
    FAIL() << "no exception";
  } catch (const dme::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("MPI_Allreduce"), std::string::npos) << what;
    EXPECT_NE(what.find("failed: "), std::string::npos) << what;
  }
}

TEST(MpiHelpers, AllreduceAndVersion) {
  dme::mpi::Comm comm(MPI_COMM_WORLD);
  EXPECT_EQ(dme::mpi::allreduce(comm.rank(), MPI_MAX, comm.get()), comm.size() - 1);
  EXPECT_EQ(dme::mpi::allreduce(1, MPI_SUM, comm.get()), comm.size());
  EXPECT_FALSE(dme::mpi::library_version().empty());
  EXPECT_FALSE(dme::mpi::processor_name().empty());
}

TEST(MpiHelpers, SameSeedAndRoundGiveSameSignsOnEveryRank) {
  dme::mpi::Comm comm(MPI_COMM_WORLD);
  const std::size_t n = 4096;
  std::vector<std::uint32_t> mine(n / 32, 0);
  dme::PhiloxStream s(31337, 4, 0, dme::Purpose::kRotationSigns);
  for (std::size_t i = 0; i < n; ++i) mine[i / 32] |= std::uint32_t(s.sign_bit(i)) << (i % 32);
  std::vector<std::uint32_t> lo(mine.size()), hi(mine.size());
  DME_MPI_CHECK(
      MPI_Allreduce(mine.data(), lo.data(), int(mine.size()), MPI_UINT32_T, MPI_MIN, comm.get()));
  DME_MPI_CHECK(
      MPI_Allreduce(mine.data(), hi.data(), int(mine.size()), MPI_UINT32_T, MPI_MAX, comm.get()));
  EXPECT_EQ(lo, mine);
  EXPECT_EQ(hi, mine);
}

// mpi::agreed: a step that fails on some ranks throws the same dme::Error, naming the lowest
// failing rank, on every rank; a step that succeeds everywhere returns its value everywhere.
TEST(Agreed, ValueOnEveryRankWhenNoRankFails) {
  const int rank = dme::mpi::comm_rank(MPI_COMM_WORLD);
  EXPECT_EQ(dme::mpi::agreed(MPI_COMM_WORLD, [&] { return std::vector<int>(3, rank); }),
            std::vector<int>(3, rank));
  int calls = 0;
  dme::mpi::agreed(MPI_COMM_WORLD, [&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(Agreed, LowestFailingRanksErrorEverywhere) {
  const int rank = dme::mpi::comm_rank(MPI_COMM_WORLD);
  const int size = dme::mpi::comm_size(MPI_COMM_WORLD);
  const int first_bad = size > 1 ? 1 : 0;
  // Ranks >= first_bad fail, each with its own message: every rank throws first_bad's.
  try {
    dme::mpi::agreed(MPI_COMM_WORLD, [&]() -> int {
      if (rank >= first_bad) DME_THROW("bad value " << rank * 10);
      return 1;
    });
    FAIL() << "no throw on rank " << rank;
  } catch (const dme::Error& e) {
    EXPECT_EQ(e.rank(), first_bad);
    EXPECT_EQ(e.message().rfind("bad value " + std::to_string(first_bad * 10) + " ", 0), 0u)
        << e.message();
  }
}

TEST(Agreed, AllocationFailureAndOtherExceptionsAreErrorsToo) {
  const int rank = dme::mpi::comm_rank(MPI_COMM_WORLD);
  const int last = dme::mpi::comm_size(MPI_COMM_WORLD) - 1;
  try {
    dme::mpi::agreed(MPI_COMM_WORLD, [&] {
      if (rank == last) throw std::bad_alloc();
    });
    FAIL() << "no throw on rank " << rank;
  } catch (const dme::Error& e) {
    EXPECT_EQ(e.rank(), last);
    EXPECT_NE(e.message().find("out of memory"), std::string::npos) << e.message();
  }
  try {
    dme::mpi::agreed(MPI_COMM_WORLD, [&] {
      if (rank == 0) throw std::out_of_range("index 7 past the end");
    });
    FAIL() << "no throw on rank " << rank;
  } catch (const dme::Error& e) {
    EXPECT_EQ(e.rank(), 0);
    EXPECT_EQ(e.message(), "index 7 past the end");
  }
}

TEST(AlikeEverywhere, ValuePassesAndErrorsAreMarkedAgreed) {
  EXPECT_EQ(dme::mpi::alike_everywhere([] { return 7; }), 7);
  try {
    dme::mpi::alike_everywhere([] { DME_THROW("--trials must be at least 1, got 0"); });
    FAIL() << "no throw";
  } catch (const dme::Error& e) {
    EXPECT_TRUE(e.agreed());  // rank 0 alone reports it (apps/subcommand.cpp)
    EXPECT_EQ(e.message().rfind("--trials must be at least 1, got 0", 0), 0u) << e.message();
  }
}

}  // namespace
