// dme::Error and the two tiers of checks.
//   DME_CHECK(cond, msg << value)  user error: throws dme::Error with the message, the rank (when
//                                  known) and the throwing function, file and line.
//   DME_ASSERT(cond)               broken internal invariant: prints and aborts.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace dme {

/// The one exception type of the library. `rank()` is the MPI rank the error concerns (the
/// offending rank in a collective), or kNoRank when it is not tied to one.
class Error : public std::runtime_error {
 public:
  static constexpr int kNoRank = -1;

  /// @param agreed  true when every rank of the collective throws this same error (the ranks
  ///                agreed on it, core/agree.h), so one rank may report it for all
  explicit Error(const std::string& message, int rank = kNoRank, bool agreed = false);

  /// The message without the "dme error (rank r): " prefix (the source location stays).
  const std::string& message() const noexcept { return message_; }
  int rank() const noexcept { return rank_; }
  bool agreed() const noexcept { return agreed_; }

 private:
  std::string message_;
  int rank_;
  bool agreed_;
};

/// The rank errors thrown by this process name by default (set by mpi::Environment and the
/// collectives; kNoRank outside MPI).
void set_error_rank(int rank) noexcept;
int error_rank() noexcept;

namespace detail {
[[noreturn]] void throw_error(const char* file, int line, const char* func, const std::string& msg);
[[noreturn]] void assert_fail(const char* expr, const char* file, int line, const char* func);
}  // namespace detail

}  // namespace dme

#define DME_CHECK(cond, msg)                                                         \
  do {                                                                               \
    if (!(cond)) [[unlikely]] {                                                      \
      std::ostringstream dme_check_os_;                                              \
      dme_check_os_ << msg;                                                          \
      ::dme::detail::throw_error(__FILE__, __LINE__, __func__, dme_check_os_.str()); \
    }                                                                                \
  } while (0)

#define DME_THROW(msg) DME_CHECK(false, msg)

#define DME_ASSERT(cond)                                               \
  do {                                                                 \
    if (!(cond)) [[unlikely]]                                          \
      ::dme::detail::assert_fail(#cond, __FILE__, __LINE__, __func__); \
  } while (0)
