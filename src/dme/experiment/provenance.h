// collect_provenance: the MPI half of dme::Provenance (dme/io/provenance.h), for the drivers.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dme/io/provenance.h"

namespace dme {

/// Collective over comm (every rank gets the same record except command_line, which is each
/// rank's own). Fills version and git_commit from <dme/version.h>, created with rank 0's clock
/// (UTC ISO 8601, broadcast), the MPI library and HDF5 versions, the sorted distinct host names
/// of the ranks (gathered to every rank), the number of ranks and `seeds`.
/// @param argv arguments, size argc (as passed to main)
Provenance collect_provenance(const std::string& program, int argc, char** argv, MPI_Comm comm,
                              std::vector<std::uint64_t> seeds);

}  // namespace dme
