// Collective agreement on a status, so that a rank with bad input makes every rank throw the
// same dme::Error (naming the offending rank) instead of leaving the others blocked.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>

#include "dme/collective/options.h"
#include "dme/core/agree.h"

namespace dme::detail {

struct LocalStatus {
  bool ok = true;
  std::string message;            ///< the local error, when !ok
  std::uint64_t d = 0;            ///< local vector length
  int rotations = 0;              ///< local rotation count (the largest is agreed)
  std::uint64_t fingerprint = 0;  ///< options_fingerprint of the local options
  float max_abs = 0;              ///< largest |x[i]| of the local vector (the largest is agreed)
  const Options* options = nullptr;  ///< the local options, to name a difference (else hashes)
  std::uint32_t round = 0;           ///< the round this rank is at (agreed with the options)
};

struct AgreedStatus {
  std::uint64_t d = 0;
  int rotations = 0;
  float max_abs = 0;  ///< largest |x[i]| over every rank's vector
};

/// Collective over comm (one small MPI_Allreduce; more only on failure). Throws on every rank:
/// the lowest failing rank's error; or the list of ranks whose length or options differ.
/// @param meta_bytes incremented by the bytes this rank sent
AgreedStatus agree(const LocalStatus& local, MPI_Comm comm, std::uint64_t& meta_bytes);

using mpi::raise_everywhere;  // core/agree.h

}  // namespace dme::detail
