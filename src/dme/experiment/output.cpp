#include "dme/experiment/output.h"

#include "dme/core/simd.h"

#include <cstdio>
#include <optional>

#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/experiment/provenance.h"

namespace dme {

WriteMode write_mode(const OutputOptions& o) {
  DME_CHECK(!(o.force && o.append), "--force and --append exclude each other");
  return o.append ? WriteMode::kAppend : o.force ? WriteMode::kForce : WriteMode::kCreate;
}

void check_tag(const OutputOptions& o) {
  if (o.tag.empty()) return;
  const bool ok = o.tag.size() <= 64 && o.tag.find_first_not_of(
                                            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                            "0123456789._-") == std::string::npos;
  DME_CHECK(ok, "--tag '" << o.tag
                          << "': use 1 to 64 letters, digits, '.', '_' or '-' (it ends every "
                             "run name)");
}

std::string tagged_name(const OutputOptions& o, const std::string& name) {
  return o.tag.empty() ? name : name + "_" + o.tag;
}

namespace {
// Runs f on rank 0 only; every rank throws rank 0's error (any exception) if it failed.
template <class F>
void on_root_agreed(MPI_Comm comm, F&& f) {
  std::optional<std::string> error;
  if (mpi::comm_rank(comm) == 0) error = mpi::capture_error(f);
  mpi::agree_or_throw(error, comm);
}
}  // namespace

void check_output(const OutputOptions& o, MPI_Comm comm,
                  const std::vector<std::string>& run_names) {
  if (o.out.empty()) return;
  std::vector<std::string> names;
  for (const std::string& name : run_names) names.push_back(tagged_name(o, name));
  on_root_agreed(comm, [&] {
    check_output_path(o.out, write_mode(o));
    check_run_names(o.out, write_mode(o), names);
  });
}

void write_output(const OutputOptions& o, const std::string& program, MPI_Comm comm,
                  const std::vector<std::uint64_t>& seeds, const std::vector<Run>& runs) {
  if (o.out.empty()) return;
  const Provenance prov = collect_provenance(program, o.argc, o.argv, comm, seeds);
  std::vector<Run> tagged = runs;
  for (Run& run : tagged) {
    run.name = tagged_name(o, run.name);
    if (!o.tag.empty()) run.parameters["tag"] = o.tag;
  }
  on_root_agreed(comm, [&] { write_results(o.out, prov, tagged, write_mode(o)); });
  if (mpi::comm_rank(comm) == 0 && !o.quiet)
    std::fprintf(stderr, "%s: results written to %s\n", program.c_str(), o.out.c_str());
}

Progress::Progress(std::string what, std::size_t total, bool enabled)
    : what_(std::move(what)), total_(total), enabled_(enabled) {
  static bool said = false;  // once per process: which SIMD target the kernels run on
  if (enabled_ && !said) {
    said = true;
    std::fprintf(stderr, "%s: SIMD target %s\n", what_.c_str(), simd_summary().c_str());
  }
}

void Progress::solver_layer(std::size_t done, std::size_t total) {
  if (!enabled_) return;
  const double t = timer_.elapsed_s();
  if (t - step_start_s_ < 2.0 || t - last_print_s_ < 1.0) return;
  last_print_s_ = t;
  std::fprintf(stderr, "\r%s: %zu/%zu, elapsed %.1f s, solver layer %zu/%zu   ", what_.c_str(),
               done_, total_, t, done, total);
  std::fflush(stderr);
}

void Progress::step(std::size_t n) {
  done_ += n;
  if (!enabled_) return;
  const double t = timer_.elapsed_s();
  step_start_s_ = t;
  if (done_ < total_ && t - last_print_s_ < 1.0) return;
  last_print_s_ = t;
  const double eta = done_ ? t / double(done_) * double(total_ - done_) : 0.0;
  std::fprintf(stderr, "\r%s: %zu/%zu, elapsed %.1f s, ETA %.1f s   %s", what_.c_str(), done_,
               total_, t, eta, done_ >= total_ ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace dme
