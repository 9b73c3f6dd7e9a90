// Helpers shared by the tests that run under mpiexec (any rank count): the world rank and size,
// whether every rank holds the same bits, bitwise equality and a seeded LogNormal(0, 1) vector.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <cstring>
#include <random>
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

/// a and b hold the same floats bit for bit (so -0 differs from +0, and NaNs compare).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), 4 * a.size()) == 0;
}

/// d values from LogNormal(0, 1), the same for the same seed everywhere.
inline std::vector<float> lognormal_input(std::size_t d, unsigned seed) {
  std::mt19937 gen(seed);
  std::lognormal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(d);
  for (auto& v : x) v = dist(gen);
  return x;
}

}  // namespace dme::test
