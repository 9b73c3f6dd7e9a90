// Sample provenance and runs for the results-file tests, and error-text helpers.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>

#include "dme/core/error.h"
#include "dme/io/provenance.h"
#include "dme/io/results.h"

namespace dme::testing {

inline dme::Provenance sample_provenance(const std::string& tag) {
  dme::Provenance p;
  p.program = "dme-experiment";
  p.version = "0.1.0";
  p.git_commit = "0123456789ab";
  p.command_line = "dme-experiment bias --tag " + tag;
  p.created_iso8601 = "2025-01-31T17:04:05Z";
  p.mpi_library_version = "Open MPI v4.1.4";
  p.hdf5_version = dme::hdf5_library_version();
  p.hosts = {"node01", "node02"};
  p.ranks = 8;
  p.seeds = {1, 42, std::numeric_limits<std::uint64_t>::max()};
  p.simd_target = "avx2, avx512";
  p.cpu = "AMD EPYC 7B13, Intel(R) Xeon(R) Platinum 8480+";
  return p;
}

inline dme::Run sample_run(const std::string& name, std::size_t n = 5) {
  dme::Run run;
  run.name = name;
  run.parameters = {{"s", std::int64_t{16}},
                    {"sigma", 0.5},
                    {"solver", std::string("quiver_accel")},
                    {"ranks", std::vector<std::int64_t>{1, 2, 4, 8}},
                    {"sigmas", std::vector<double>{0.25, 0.5, 1.0}},
                    {"solvers", std::vector<std::string>{"quiver", "kmeans"}}};
  dme::Dataset nmse{"nmse", {}, {n}, "1", {{"description", std::string("NMSE per trial")}}};
  for (std::size_t i = 0; i < n; ++i) nmse.values.push_back(1.0 / static_cast<double>(i + 3));
  dme::Dataset times{"time_ms", {}, {2, 3}, "ms", {{"axis0", std::string("n")}}};
  times.values = {0.1, 0.2, 0.3, 1.5, -2.5, 1e-300};
  run.datasets = {nmse, times};
  return run;
}

inline std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const dme::Error& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace dme::testing
