#include "dme/experiment/provenance.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>

#include "dme/core/mpi_helpers.h"
#include "dme/core/simd.h"
#include "dme/version.h"

namespace dme {
namespace {

/// Distinct values of a string of every rank of comm (at most MPI_MAX_PROCESSOR_NAME - 1 bytes
/// kept), sorted, on every rank.
std::vector<std::string> gather_distinct(MPI_Comm comm, const std::string& name) {
  std::array<char, MPI_MAX_PROCESSOR_NAME> mine{};
  std::memcpy(mine.data(), name.data(), std::min(name.size(), mine.size() - 1));
  const int size = mpi::comm_size(comm);
  std::vector<char> all(static_cast<std::size_t>(size) * mine.size());
  DME_MPI_CHECK(MPI_Allgather(mine.data(), MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all.data(),
                              MPI_MAX_PROCESSOR_NAME, MPI_CHAR, comm));
  std::vector<std::string> hosts;
  for (int r = 0; r < size; ++r) {
    const char* cell = all.data() + static_cast<std::size_t>(r) * mine.size();
    hosts.emplace_back(cell, strnlen(cell, mine.size()));
  }
  std::sort(hosts.begin(), hosts.end());
  hosts.erase(std::unique(hosts.begin(), hosts.end()), hosts.end());
  return hosts;
}

/// Rank 0's time, so that every rank writes the same creation time.
std::string shared_time(MPI_Comm comm) {
  std::array<char, 64> text{};
  if (mpi::comm_rank(comm) == 0) {
    const std::string now = iso8601_utc(std::chrono::system_clock::now());
    std::memcpy(text.data(), now.data(), std::min(now.size(), text.size() - 1));
  }
  DME_MPI_CHECK(MPI_Bcast(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, comm));
  return std::string(text.data(), strnlen(text.data(), text.size()));
}

}  // namespace

Provenance collect_provenance(const std::string& program, int argc, char** argv, MPI_Comm comm,
                              std::vector<std::uint64_t> seeds) {
  Provenance p;
  p.program = program;
  p.version = DME_VERSION;
  p.git_commit = DME_GIT_COMMIT;
  p.command_line = command_line_string(argc, argv);
  p.created_iso8601 = shared_time(comm);
  p.mpi_library_version = mpi::library_version();
  p.hdf5_version = hdf5_library_version();
  p.hosts = gather_distinct(comm, mpi::processor_name());
  const auto joined = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  };
  p.simd_target = joined(gather_distinct(comm, simd_target()));
  p.cpu = joined(gather_distinct(comm, cpu_model()));
  p.ranks = mpi::comm_size(comm);
  p.seeds = std::move(seeds);
  return p;
}

}  // namespace dme
