// collect_provenance under MPI (run with 2 ranks): every field filled, the same record on every
// rank, and a file written by rank 0 reads back with that provenance.
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <sstream>

#include "dme/core/mpi_helpers.h"
#include "dme/experiment/provenance.h"
#include "dme/io/results.h"
#include "dme/version.h"
#include "temp_dir.h"

namespace {

/// Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ", or -1 when it does not parse.
long long parse_iso8601_utc(const std::string& text) {
  std::tm tm{};
  std::istringstream in(text);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail() || in.get() != 'Z' || in.peek() != EOF) return -1;
  return static_cast<long long>(timegm(&tm));
}

/// Every rank's string, gathered to every rank.
std::vector<std::string> allgather(const std::string& mine, MPI_Comm comm) {
  const int size = dme::mpi::comm_size(comm);
  int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size));
  MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, comm);
  std::vector<int> offsets(static_cast<std::size_t>(size), 0);
  for (int r = 1; r < size; ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string all(static_cast<std::size_t>(offsets.back() + lengths.back()), '\0');
  MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(),
                 MPI_CHAR, comm);
  std::vector<std::string> out;
  for (int r = 0; r < size; ++r) out.push_back(all.substr(offsets[r], lengths[r]));
  return out;
}

TEST(Provenance, CollectFillsEveryFieldTheSameOnEveryRank) {
  char arg0[] = "test_io_mpi", arg1[] = "--flag", arg2[] = "a value";
  char* argv[] = {arg0, arg1, arg2};
  const dme::Provenance p =
      dme::collect_provenance("dme-test", 3, argv, MPI_COMM_WORLD, {3, 1u << 31});
  EXPECT_EQ(p.program, "dme-test");
  EXPECT_EQ(p.version, DME_VERSION);
  EXPECT_EQ(p.git_commit, DME_GIT_COMMIT);
  EXPECT_FALSE(p.git_commit.empty());
  EXPECT_EQ(p.command_line, "test_io_mpi --flag 'a value'");
  EXPECT_EQ(p.mpi_library_version, dme::mpi::library_version());
  EXPECT_FALSE(p.mpi_library_version.empty());
  EXPECT_EQ(p.hdf5_version, dme::hdf5_library_version());
  EXPECT_EQ(p.ranks, dme::mpi::comm_size(MPI_COMM_WORLD));
  EXPECT_EQ(p.seeds, (std::vector<std::uint64_t>{3, 1u << 31}));
  ASSERT_FALSE(p.hosts.empty());
  EXPECT_TRUE(std::is_sorted(p.hosts.begin(), p.hosts.end()));
  EXPECT_TRUE(std::adjacent_find(p.hosts.begin(), p.hosts.end()) == p.hosts.end());
  EXPECT_NE(std::find(p.hosts.begin(), p.hosts.end(), dme::mpi::processor_name()), p.hosts.end());

  const long long created = parse_iso8601_utc(p.created_iso8601);
  ASSERT_GE(created, 0) << p.created_iso8601;
  const long long now = static_cast<long long>(std::time(nullptr));
  EXPECT_LE(std::llabs(now - created), 300) << p.created_iso8601;  // generous for slow CI

  // Rank 0's clock and the host list are shared: every rank holds the same strings.
  for (const std::string& field : {p.created_iso8601, p.hosts.front(), p.hosts.back()}) {
    const std::vector<std::string> all = allgather(field, MPI_COMM_WORLD);
    for (const std::string& other : all) EXPECT_EQ(other, field);
  }
}

TEST(Provenance, FileWrittenByRankZeroReadsBackWithIt) {
  const int rank = dme::mpi::comm_rank(MPI_COMM_WORLD);
  char arg0[] = "test_io_mpi";
  char* argv[] = {arg0};
  const dme::Provenance p = dme::collect_provenance("dme-test", 1, argv, MPI_COMM_WORLD, {9});
  if (rank == 0) {
    dme::testing::TempDir dir("provenance_mpi");
    const std::string path = dir.file("out.h5");
    dme::Run run{"r", {{"ranks", p.ranks}}, {dme::Dataset{"x", {1, 2}, {2}, "1", {}}}};
    dme::write_results(path, p, {run}, dme::WriteMode::kCreate);
    const dme::ResultsFile file = dme::read_results(path);
    const dme::Provenance back = dme::provenance_from_attributes(file.root_attributes, "");
    EXPECT_EQ(back.created_iso8601, p.created_iso8601);
    EXPECT_EQ(back.hosts, p.hosts);
    EXPECT_EQ(back.ranks, p.ranks);
    EXPECT_EQ(back.seeds, p.seeds);
    EXPECT_EQ(back.mpi_library_version, p.mpi_library_version);
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace
