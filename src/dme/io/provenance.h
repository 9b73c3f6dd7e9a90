// dme::Provenance: where a results file came from, and its HDF5 attributes.
// The MPI half (collect_provenance) is in dme/experiment/provenance.h, so io/ stays MPI-free.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "dme/io/attr_value.h"

namespace dme {

namespace h5 {
class Location;
}

struct Provenance {
  std::string program, version, git_commit, command_line, created_iso8601, mpi_library_version,
      hdf5_version;
  std::vector<std::string> hosts;  ///< distinct host names of the ranks
  std::int64_t ranks = 1;
  std::vector<std::uint64_t> seeds;
  /// SIMD targets the ranks' kernels ran on and their CPU models, distinct values joined by
  /// ", " ("" in files written before dme recorded them).
  std::string simd_target, cpu;
};

/// UTC time in ISO 8601 with a 'Z' suffix, to the second: "2025-01-31T17:04:05Z".
std::string iso8601_utc(std::chrono::system_clock::time_point time);

/// argv joined by spaces, each argument quoted for a POSIX shell when it needs it, so the
/// line can be pasted back into a shell to rerun the job.
/// @param argv arguments, size argc
std::string command_line_string(int argc, const char* const* argv);

/// The HDF5 library's version at run time ("1.10.8").
std::string hdf5_library_version();

/// Writes the provenance as attributes of `loc`, each named `prefix` + field: program, version,
/// git_commit, command_line, created (ISO 8601), mpi_library_version, hdf5_version, hosts
/// (strings), ranks (int64), seeds (uint64), simd_target, cpu. Throws dme::Error if one already
/// exists.
void write_provenance(h5::Location& loc, const Provenance& provenance, std::string_view prefix);

/// The inverse of write_provenance on attributes read back (read_results); a missing or
/// mistyped field -> dme::Error naming it.
Provenance provenance_from_attributes(const std::map<std::string, AttrValue>& attributes,
                                      std::string_view prefix);

/// The attribute-name prefix of the provenance of a run appended to an existing file.
inline constexpr std::string_view kAppendedProvenancePrefix = "provenance.";

}  // namespace dme
