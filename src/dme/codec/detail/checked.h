// Overflow-checked size arithmetic for lengths that come from the wire (or from callers): a
// 64-bit overflow is a dme::Error naming the quantity, never a wrapped, too-small size.
#pragma once

#include <cstdint>

#include "dme/core/error.h"

namespace dme::detail::codec {

inline std::uint64_t checked_add(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t r;
  DME_CHECK(!__builtin_add_overflow(a, b, &r),
            "size of " << what << " overflows 64 bits (" << a << " + " << b << ")");
  return r;
}

inline std::uint64_t checked_mul(std::uint64_t a, std::uint64_t b, const char* what) {
  std::uint64_t r;
  DME_CHECK(!__builtin_mul_overflow(a, b, &r),
            "size of " << what << " overflows 64 bits (" << a << " * " << b << ")");
  return r;
}

/// n rounded up to a multiple of 8 (the alignment of every payload section).
inline std::uint64_t checked_pad8(std::uint64_t n, const char* what) {
  return checked_add(n, 7, what) & ~std::uint64_t(7);
}

/// ceil(a / b) for b > 0, without the overflow of a + b - 1.
constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) noexcept {
  return a / b + (a % b != 0);
}

}  // namespace dme::detail::codec
