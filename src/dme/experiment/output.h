// What every experiment does with its results: a table on stdout (rank 0), optionally an HDF5
// file (written by rank 0), and progress on stderr.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dme/core/timer.h"
#include "dme/io/results.h"

namespace dme {

struct OutputOptions {
  std::string out;      ///< HDF5 file; empty = none
  bool force = false;   ///< replace an existing file
  bool append = false;  ///< add the runs to an existing file
  bool csv = false;     ///< CSV instead of a fixed-column table
  bool quiet = false;   ///< no progress on stderr
  std::string tag;      ///< suffix of every run name ("<run>_<tag>") and a "tag" attribute
  int argc = 0;         ///< the command line, recorded as provenance
  char** argv = nullptr;
};

WriteMode write_mode(const OutputOptions& o);

/// Throws dme::Error unless o.tag is empty or 1..64 characters of [A-Za-z0-9._-].
void check_tag(const OutputOptions& o);

/// The name a run is written under: `name`, or `name_<tag>` with --tag.
std::string tagged_name(const OutputOptions& o, const std::string& name);

/// Collective: rank 0 checks that o.out can be written and that the runs this job will write
/// (`run_names`, tagged as tagged_name says) neither repeat nor exist in a file appended to, before
/// any work starts; every rank throws the same dme::Error when not. No-op when o.out is empty.
void check_output(const OutputOptions& o, MPI_Comm comm, const std::vector<std::string>& run_names);

/// Collective: gathers provenance, rank 0 writes the runs (tagged), and every rank learns the
/// outcome (the same dme::Error on all ranks when the write fails). No-op when o.out is empty.
void write_output(const OutputOptions& o, const std::string& program, MPI_Comm comm,
                  const std::vector<std::uint64_t>& seeds, const std::vector<Run>& runs);

/// Progress of a long run on stderr from rank 0: "done/total, elapsed, ETA", at most once per
/// second (and at the end).
class Progress {
 public:
  Progress(std::string what, std::size_t total, bool enabled);
  void step(std::size_t n = 1);
  /// Inside a step: the level solver finished DP layer `done` of `total` (ScopedSolverProgress),
  /// shown with the steps, at most once per second, once the step has run for 2 s.
  void solver_layer(std::size_t done, std::size_t total);

 private:
  std::string what_;
  std::size_t total_, done_ = 0;
  bool enabled_;
  Timer timer_;
  double last_print_s_ = -1;
  double step_start_s_ = 0;
};

}  // namespace dme
