// Progress of long level-solver runs: the layered DPs of quiver, quiver-apx and kmeans call the
// hook of their thread between layers, so that a driver can show how far a solve that takes
// minutes (huge s and d, or s and m) has come.
#pragma once

#include <cstddef>
#include <functional>

namespace dme {

/// Called with (layers done, layers in all) after each DP layer, on the solving thread.
using SolverProgress = std::function<void(std::size_t done, std::size_t total)>;

/// Installs `hook` for the solvers of this thread while it lives (the previous one is restored).
/// Calls are frequent (one per layer): the hook should rate-limit any output itself.
class ScopedSolverProgress {
 public:
  explicit ScopedSolverProgress(SolverProgress hook);
  ~ScopedSolverProgress();
  ScopedSolverProgress(const ScopedSolverProgress&) = delete;
  ScopedSolverProgress& operator=(const ScopedSolverProgress&) = delete;

 private:
  SolverProgress hook_;
  const SolverProgress* previous_;
};

namespace detail {
/// The solvers' side: reports a finished layer to this thread's hook, if any.
void report_solver_layer(std::size_t done, std::size_t total);
}  // namespace detail

}  // namespace dme
