#include "dme/core/error.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace dme {
namespace {
std::atomic<int> g_error_rank{Error::kNoRank};

std::string with_prefix(const std::string& message, int rank) {
  if (rank == Error::kNoRank) return "dme error: " + message;
  return "dme error (rank " + std::to_string(rank) + "): " + message;
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}
}  // namespace

Error::Error(const std::string& message, int rank, bool agreed)
    : std::runtime_error(with_prefix(message, rank)),
      message_(message),
      rank_(rank),
      agreed_(agreed) {}

void set_error_rank(int rank) noexcept {
  g_error_rank.store(rank, std::memory_order_relaxed);
}
int error_rank() noexcept {
  return g_error_rank.load(std::memory_order_relaxed);
}

namespace detail {
void throw_error(const char* file, int line, const char* func, const std::string& msg) {
  throw Error(msg + " [in " + func + " at " + base_name(file) + ":" + std::to_string(line) + "]",
              error_rank());
}

void assert_fail(const char* expr, const char* file, int line, const char* func) {
  std::fprintf(stderr, "dme internal error (rank %d): assertion '%s' failed in %s at %s:%d\n",
               error_rank(), expr, func, base_name(file), line);
  std::abort();
}
}  // namespace detail
}  // namespace dme
