// Helpers shared by the experiment driver tests (run under mpiexec, any rank count).
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "support/mpi_test_support.h"

namespace dme::testing {

using dme::test::world_rank;
using dme::test::world_size;

/// Runs f on every rank and expects every rank to throw a dme::Error containing `needle`, with
/// the same text everywhere (the drivers check their configuration before any collective work).
inline void expect_error_everywhere(const std::function<void()>& f, const std::string& needle) {
  std::string what;
  try {
    f();
  } catch (const Error& e) {
    what = e.message();
  }
  EXPECT_NE(what.find(needle), std::string::npos)
      << "rank " << world_rank() << ": '" << what << "'";
  const std::uint64_t h = std::hash<std::string>{}(what);
  std::uint64_t lo = 0, hi = 0;
  MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  EXPECT_EQ(lo, hi) << "ranks disagree on the error; rank " << world_rank() << ": " << what;
}

/// True when v is bit-identical on every rank of MPI_COMM_WORLD.
inline bool same_on_all_ranks(std::vector<double> v) {
  std::vector<double> root = v;
  MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  int same = root == v ? 1 : 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

}  // namespace dme::testing
