// Results files (HDF5): the schema of docs/design.md §6, written atomically.
//
//   /                 root attributes: format ("dme-results"), format_version, and the
//                     provenance (program, version, git_commit, command_line, created,
//                     mpi_library_version, hdf5_version, hosts, ranks, seeds)
//   /<run>            one group per run, its parameters as attributes; a run appended to an
//                     existing file also carries its own provenance as "provenance.*" attributes
//   /<run>/<metric>   one float64 dataset per metric, attribute "units" plus any extras
//
// A file is written by one process (rank 0 after a reduction): HDF5 assembles it in memory,
// its bytes go to "<path>.tmp.<pid>" (written, fsync'ed) and that is renamed over `path`, so a
// reader or an interrupted job never sees a half-written file; SIGINT and SIGTERM remove the
// temporary. Results files hold metrics, so holding one in memory is cheap. Writers that
// replace an existing file take an exclusive flock(2) on it first, so concurrent appends to one
// path serialise and every run lands.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "dme/io/attr_value.h"
#include "dme/io/provenance.h"

namespace dme {

/// One metric of a run.
struct Dataset {
  std::string name;                ///< dataset name inside the run's group (no '/')
  std::vector<double> values;      ///< row-major, size product(shape)
  std::vector<std::size_t> shape;  ///< {n} or {rows, cols} (rank >= 1), product values.size()
  std::string units;               ///< e.g. "ms", "1" (dimensionless), "bytes"; never empty
  std::map<std::string, AttrValue> attributes;  ///< extras (e.g. "description", "axis0")
};

/// One group of a results file.
struct Run {
  std::string name;  ///< group name (no '/'); must not exist yet when appending
  std::map<std::string, AttrValue> parameters;  ///< written as group attributes
  std::vector<Dataset> datasets;
};

enum class WriteMode {
  kCreate,  ///< an existing file is an error
  kForce,   ///< an existing file is replaced
  kAppend,  ///< groups are added to an existing file (which is created when missing)
};

/// Throws dme::Error naming `path` when it cannot be written in `mode`: its directory is
/// missing or not writable, it is a directory, it exists in kCreate mode, or it exists but is
/// not an HDF5 file in kAppend mode. Call it before the experiment runs. It creates only a
/// probe file next to `path`, which it removes.
void check_output_path(const std::string& path, WriteMode mode);

/// Throws dme::Error when `names` repeat, or when `mode` is kAppend and the existing file at
/// `path` holds a group of one of the names. Call it before the run, with check_output_path.
void check_run_names(const std::string& path, WriteMode mode,
                     const std::vector<std::string>& names);

/// Writes `runs` (and, except when appending to an existing file, the root provenance) to
/// `path` through a temporary file renamed over it. When appending, the existing file's bytes
/// are the starting point of the new file; the existing file is never modified in place.
/// Run names that repeat, or that exist in the file already, and malformed datasets are
/// rejected before anything is written; on any failure the temporary is removed and `path` is
/// left as it was, except that results are never lost to a concurrent writer: in kCreate mode
/// a target that appeared meanwhile, and in kAppend mode a run name appended meanwhile, leave
/// the results in the temporary, which the error names. Replacing an existing file (kAppend,
/// kForce) holds its lock (detail::FileLock); an append to a missing file that another process
/// creates meanwhile appends to that file.
void write_results(const std::string& path, const Provenance& provenance,
                   const std::vector<Run>& runs, WriteMode mode);

struct ResultsFile {
  std::map<std::string, AttrValue> root_attributes;
  std::vector<Run> runs;  ///< the groups of the root, in the order they were written
};

/// Reads a results file back: the root attributes, and every group of the root with its
/// attributes and its datasets (read as double; "units" taken out of the attributes).
ResultsFile read_results(const std::string& path);

/// The temporary file name write_results uses for `path` in this process.
std::string temporary_path(const std::string& path);

}  // namespace dme
