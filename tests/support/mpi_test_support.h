// Helpers shared by the tests that run under mpiexec (any rank count): the world rank and size,
// and whether every rank holds the same bits.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "dme/core/mpi_helpers.h"

namespace dme::test {

inline int world_rank() {
  return mpi::comm_rank(MPI_COMM_WORLD);
}
inline int world_size() {
  return mpi::comm_size(MPI_COMM_WORLD);
}

/// True when every rank holds exactly the same bits in v (and the same length).
inline bool identical_on_all_ranks(const std::vector<float>& v) {
  std::uint64_t n = v.size(), n_lo = 0, n_hi = 0;
  MPI_Allreduce(&n, &n_lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(&n, &n_hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
  if (n_lo != n_hi) return false;
  std::vector<std::uint32_t> bits(v.size()), lo(v.size()), hi(v.size());
  if (!v.empty()) std::memcpy(bits.data(), v.data(), 4 * v.size());
  MPI_Allreduce(bits.data(), lo.data(), static_cast<int>(v.size()), MPI_UINT32_T, MPI_MIN,
                MPI_COMM_WORLD);
  MPI_Allreduce(bits.data(), hi.data(), static_cast<int>(v.size()), MPI_UINT32_T, MPI_MAX,
                MPI_COMM_WORLD);
  return lo == bits && hi == bits;
}

}  // namespace dme::test
