#include "dme/quantization/solver_progress.h"

#include <utility>

namespace dme {
namespace {
thread_local const SolverProgress* t_hook = nullptr;
}  // namespace

ScopedSolverProgress::ScopedSolverProgress(SolverProgress hook)
    : hook_(std::move(hook)), previous_(t_hook) {
  t_hook = &hook_;
}

ScopedSolverProgress::~ScopedSolverProgress() {
  t_hook = previous_;
}

namespace detail {
void report_solver_layer(std::size_t done, std::size_t total) {
  if (t_hook != nullptr && *t_hook) (*t_hook)(done, total);
}
}  // namespace detail

}  // namespace dme
