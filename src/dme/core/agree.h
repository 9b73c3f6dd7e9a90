// "Try locally, agree on the status, throw the same error everywhere": the one pattern by which
// every collective step of dme (MeanEstimator, the exchanges, the experiment drivers) turns a
// fault on some ranks into the same dme::Error on all of them, instead of leaving the healthy
// ranks blocked in the next collective call.
//
//   auto x = mpi::agreed(comm, [&] { return read_input(...); });  // collective
//
// A failing step may be a dme::Error, std::bad_alloc or any other std::exception; the error
// every rank throws is the lowest failing rank's, with Error::rank() naming that rank.
#pragma once

#include <mpi.h>

#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "dme/core/error.h"

namespace dme::mpi {

/// Collective: the failing rank broadcasts its message and every rank throws it as a dme::Error
/// with rank() == failing_rank. my_message is read on the failing rank only.
[[noreturn]] void raise_everywhere(int failing_rank, const std::string& my_message, MPI_Comm comm);

/// Collective (one MPI_Allreduce of an int): when any rank passes an error, every rank throws
/// the lowest failing rank's (raise_everywhere); else returns.
void agree_or_throw(const std::optional<std::string>& local_error, MPI_Comm comm);

/// Runs step() and returns its error message, if it threw (dme::Error: its message; bad_alloc:
/// "out of memory ..."; another std::exception: its what()).
template <class F>
std::optional<std::string> capture_error(F&& step) {
  try {
    std::forward<F>(step)();
    return std::nullopt;
  } catch (const Error& e) {
    return e.message();
  } catch (const std::bad_alloc&) {
    return std::string("out of memory (std::bad_alloc)");
  } catch (const std::exception& e) {
    return std::string(e.what());
  }
}

/// Collective: runs step() on this rank, agrees on the outcome across comm, and returns step's
/// value on every rank when no rank failed; else every rank throws the same dme::Error.
template <class F>
auto agreed(MPI_Comm comm, F&& step) {
  using R = std::invoke_result_t<F&>;
  if constexpr (std::is_void_v<R>) {
    agree_or_throw(capture_error(step), comm);
  } else {
    std::optional<R> value;
    agree_or_throw(capture_error([&] { value.emplace(step()); }), comm);
    return std::move(*value);
  }
}

/// Runs step(), which depends only on what every rank shares (the options the ranks agreed on,
/// the launch size) and fails alike on every rank: a dme::Error it throws is rethrown marked
/// agreed, so that rank 0 alone reports it, without any communication. Steps whose outcome may
/// differ between ranks (files, memory, the CPU) need agreed() instead.
template <class F>
auto alike_everywhere(F&& step) {
  try {
    return std::forward<F>(step)();
  } catch (const Error& e) {
    if (e.agreed()) throw;
    throw Error(e.message(), e.rank(), /*agreed=*/true);
  }
}

}  // namespace dme::mpi
