// A thin wrapper over the MPI C API: RAII environment and communicator, rank/size, C++ type to
// MPI_Datatype mapping, and checked calls that turn an MPI error code into dme::Error.
// Raw MPI_* calls of the library live here, in collective/ and in experiment/.
#pragma once

#include <mpi.h>

#include <complex>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

#include "dme/core/error.h"

namespace dme::mpi {

/// Throws dme::Error "<what> failed: <MPI_Error_string>" when code is not MPI_SUCCESS.
void check(int code, const char* what);

#define DME_MPI_CHECK(call) ::dme::mpi::check((call), #call)

int comm_rank(MPI_Comm comm);
int comm_size(MPI_Comm comm);

template <class T>
inline constexpr bool kAlwaysFalse = false;

/// The MPI datatype of T; an unmapped type is a compile-time error.
template <class T>
MPI_Datatype type_from() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return MPI_FLOAT;
  else if constexpr (std::is_same_v<U, double>)
    return MPI_DOUBLE;
  else if constexpr (std::is_same_v<U, long double>)
    return MPI_LONG_DOUBLE;
  else if constexpr (std::is_same_v<U, char>)
    return MPI_CHAR;
  else if constexpr (std::is_same_v<U, std::int8_t>)
    return MPI_INT8_T;
  else if constexpr (std::is_same_v<U, std::uint8_t>)
    return MPI_UINT8_T;
  else if constexpr (std::is_same_v<U, std::int16_t>)
    return MPI_INT16_T;
  else if constexpr (std::is_same_v<U, std::uint16_t>)
    return MPI_UINT16_T;
  else if constexpr (std::is_same_v<U, std::int32_t>)
    return MPI_INT32_T;
  else if constexpr (std::is_same_v<U, std::uint32_t>)
    return MPI_UINT32_T;
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return MPI_INT64_T;
  else if constexpr (std::is_same_v<U, std::uint64_t>)
    return MPI_UINT64_T;
  else if constexpr (std::is_same_v<U, long long>)
    return MPI_LONG_LONG;
  else if constexpr (std::is_same_v<U, unsigned long long>)
    return MPI_UNSIGNED_LONG_LONG;
  else if constexpr (std::is_same_v<U, std::complex<float>>)
    return MPI_C_FLOAT_COMPLEX;
  else if constexpr (std::is_same_v<U, std::complex<double>>)
    return MPI_C_DOUBLE_COMPLEX;
  else
    static_assert(kAlwaysFalse<T>, "dme::mpi::type_from: no MPI datatype for this type");
}

/// RAII MPI_Init_thread / MPI_Finalize for applications and tests. Does nothing when MPI was
/// already initialised by the caller. Sets MPI_ERRORS_RETURN on MPI_COMM_WORLD and the rank
/// that dme::Error messages name.
class Environment {
 public:
  Environment(int* argc, char*** argv);
  ~Environment();
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  bool owns_ = false;
};

/// A private duplicate of a communicator (MPI_Comm_dup) with MPI_ERRORS_RETURN, freed on
/// destruction. The library communicates only on such duplicates, so its messages never match
/// the user's.
class Comm {
 public:
  Comm() = default;
  explicit Comm(MPI_Comm parent);
  ~Comm();
  Comm(Comm&& other) noexcept;
  Comm& operator=(Comm&& other) noexcept;
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  MPI_Comm get() const noexcept { return comm_; }
  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }

 private:
  void release() noexcept;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

/// Logical OR / MAX / MIN / SUM of a value over the communicator (checked MPI_Allreduce).
template <class T>
T allreduce(T value, MPI_Op op, MPI_Comm comm) {
  T out{};
  DME_MPI_CHECK(MPI_Allreduce(&value, &out, 1, type_from<T>(), op, comm));
  return out;
}

/// Collective: true on every rank when v holds rank 0's bits on every rank (same size assumed).
bool identical_on_all_ranks(std::span<const float> v, MPI_Comm comm);

/// Collective: every rank's `text` becomes root's (its length first, then its bytes).
void broadcast_string(std::string& text, int root, MPI_Comm comm);

/// The MPI library's version string (MPI_Get_library_version), first line.
std::string library_version();
/// This process's host name (MPI_Get_processor_name).
std::string processor_name();

}  // namespace dme::mpi
