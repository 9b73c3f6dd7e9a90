#include "dme/collective/detail/agreement.h"

#include <algorithm>
#include <bit>
#include <iterator>
#include <limits>
#include <optional>
#include <set>
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
  throw Error(os.str(), first_bad, /*agreed=*/true);  // every rank composes the same text
}

// The fields of describe(options) that options_fingerprint covers (threads and backend may
// differ between ranks), as a sorted set of "name=value" words.
std::set<std::string> shared_fields(const std::string& description) {
  std::set<std::string> out;
  std::istringstream words(description);
  for (std::string w; words >> w;)
    if (!w.starts_with("threads=") && !w.starts_with("backend=")) out.insert(w);
  return out;
}

std::string joined(const std::set<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out.empty() ? std::string("neither") : out;
}

// Collective, after the fingerprints were found to differ: every rank throws the same error,
// naming the lowest rank whose options differ from rank 0's and the fields that differ.
[[noreturn]] void raise_options_mismatch(const LocalStatus& local, MPI_Comm comm) {
  const int rank = mpi::comm_rank(comm);
  std::uint64_t root_fp = local.fingerprint;
  DME_MPI_CHECK(MPI_Bcast(&root_fp, 1, MPI_UINT64_T, 0, comm));
  const bool named = local.options != nullptr;
  std::string root = named && rank == 0 ? describe(*local.options) : std::string();
  mpi::broadcast_string(root, 0, comm);
  std::optional<std::string> differs;
  if (local.fingerprint != root_fp && named && !root.empty()) {
    const std::set<std::string> mine = shared_fields(describe(*local.options));
    const std::set<std::string> theirs = shared_fields(root);
    std::set<std::string> only_mine, only_theirs;
    std::set_difference(mine.begin(), mine.end(), theirs.begin(), theirs.end(),
                        std::inserter(only_mine, only_mine.end()));
    std::set_difference(theirs.begin(), theirs.end(), mine.begin(), mine.end(),
                        std::inserter(only_theirs, only_theirs.end()));
    if (!only_mine.empty() || !only_theirs.empty())
      differs = "options differ across ranks: rank " + std::to_string(rank) + " has " +
                joined(only_mine) + ", rank 0 has " + joined(only_theirs) +
                " (every rank must construct its MeanEstimator with the same options)";
  }
  if (local.fingerprint != root_fp && !differs)  // a difference describe() does not show
    differs = "option fingerprints differ across ranks: rank " + std::to_string(rank) + " has " +
              std::to_string(local.fingerprint) + ", rank 0 has " + std::to_string(root_fp) +
              " (every rank must construct its MeanEstimator with the same options)";
  mpi::agree_or_throw(differs, comm);
  // Not reached: fingerprints that differ somewhere differ from rank 0's on some rank.
  throw Error("option fingerprints differ across ranks", Error::kNoRank, /*agreed=*/true);
}

}  // namespace

AgreedStatus agree(const LocalStatus& local, MPI_Comm comm, std::uint64_t& meta_bytes) {
  const int rank = mpi::comm_rank(comm);
  constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
  const auto d = static_cast<std::int64_t>(local.d);
  // The options' fingerprint and the round share one slot: a multiple of an odd constant,
  // distinct for every round, mixed into the hash.
  const std::uint64_t keyed = local.fingerprint ^ (local.round * 0x9E3779B97F4A7C15ull);
  const auto fp = static_cast<std::int64_t>(keyed >> 1);
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
  if (out[4] != -out[5]) {
    const std::vector<std::uint64_t> rounds = allgather_value<std::uint64_t>(local.round, comm);
    for (std::uint64_t r : rounds)
      if (r != rounds[0])
        raise_mismatch(rounds, "estimate rounds",
                       " (every rank must construct its MeanEstimator with the same "
                       "first_round and call estimate as often)");
    raise_options_mismatch(local, comm);
  }
  return {local.d, static_cast<int>(-out[3]),
          std::bit_cast<float>(static_cast<std::uint32_t>(-out[6]))};
}

}  // namespace dme::detail
