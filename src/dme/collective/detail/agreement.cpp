#include "dme/collective/detail/agreement.h"

#include <bit>
#include <limits>
#include <sstream>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"

namespace dme::detail {

namespace {

template <class T>
std::vector<T> allgather_value(T v, MPI_Comm comm) {
  std::vector<T> all(static_cast<std::size_t>(mpi::comm_size(comm)));
  DME_MPI_CHECK(
      MPI_Allgather(&v, 1, mpi::type_from<T>(), all.data(), 1, mpi::type_from<T>(), comm));
  return all;
}

[[noreturn]] void raise_mismatch(const std::vector<std::uint64_t>& values, const char* what,
                                 const char* hint) {
  std::ostringstream os;
  os << what << " differ across ranks:";
  int shown = 0, first_bad = -1;
  for (std::size_t r = 1; r < values.size(); ++r)
    if (values[r] != values[0]) {
      if (first_bad < 0) first_bad = static_cast<int>(r);
      if (shown++ < 8) os << " rank " << r << " has " << values[r] << ",";
    }
  os << " rank 0 has " << values[0] << hint;
  throw Error(os.str(), first_bad);
}

}  // namespace

AgreedStatus agree(const LocalStatus& local, MPI_Comm comm, std::uint64_t& meta_bytes) {
  const int rank = mpi::comm_rank(comm);
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  const auto d = static_cast<std::int64_t>(local.d);
  const auto fp = static_cast<std::int64_t>(local.fingerprint >> 1);
  // One MIN-allreduce carries minima and (negated) maxima of everything to agree on.
  // A non-negative float's bits order like its value.
  const auto max_abs_bits = static_cast<std::int64_t>(std::bit_cast<std::uint32_t>(local.max_abs));
  std::int64_t in[7] = {local.ok ? kNone : rank, d, -d, -local.rotations, fp, -fp, -max_abs_bits};
  std::int64_t out[7];
  DME_MPI_CHECK(MPI_Allreduce(in, out, 7, MPI_INT64_T, MPI_MIN, comm));
  meta_bytes += sizeof in;
  if (out[0] != kNone) raise_everywhere(static_cast<int>(out[0]), local.message, comm);
  if (out[1] != -out[2])
    raise_mismatch(allgather_value<std::uint64_t>(local.d, comm), "vector lengths",
                   " (every rank must pass vectors of the same length)");
  if (out[4] != -out[5])
    raise_mismatch(allgather_value<std::uint64_t>(local.fingerprint, comm), "option fingerprints",
                   " (every rank must construct its MeanEstimator with the same options)");
  return {local.d, static_cast<int>(-out[3]),
          std::bit_cast<float>(static_cast<std::uint32_t>(-out[6]))};
}

}  // namespace dme::detail
