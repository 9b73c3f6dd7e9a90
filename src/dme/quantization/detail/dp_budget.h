// The memory a level DP may take for its tables. The exact solvers' tables grow with the levels
// times the positions each level may occupy (level_bounds.h narrows those, but not for every
// input): s = 65536 levels of 2^17 values wanted over 10 GiB, and several ranks on one node were
// killed by the kernel's out-of-memory killer instead of stopping with an error. Each DP counts
// its tables as it allocates them and stops with a dme::Error past kMaxDpTableBytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dme/core/error.h"

namespace dme::detail {

/// The most bytes of tables one DP (a group-bound pass or the fine DP) may hold: 4 GiB.
inline constexpr std::uint64_t kMaxDpTableBytes = std::uint64_t(4) << 30;

class DpBudget {
 public:
  /// s levels over d points (for the message).
  DpBudget(std::size_t s, std::size_t d) : s_(s), d_(d) {}

  /// Counts `bytes` more of tables; throws dme::Error when the total passes kMaxDpTableBytes.
  void add(std::uint64_t bytes) {
    used_ += bytes;
    DME_CHECK(used_ <= kMaxDpTableBytes,
              "the level DP for s = " << s_ << " levels over " << d_ << " points needs more than "
                                      << (kMaxDpTableBytes >> 30)
                                      << " GiB of tables (they grow as the levels times the "
                                         "points): use fewer levels, or quiver-apx with a grid "
                                         "(m) of fewer points");
  }

 private:
  std::size_t s_, d_;
  std::uint64_t used_ = 0;
};

}  // namespace dme::detail
