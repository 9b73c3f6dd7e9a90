// Mixed-radix kernels: k base-s digits per 64-bit word (see bitpack.h for the format), unchecked
// except where a function says it checks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace dme::detail::codec {

__extension__ typedef unsigned __int128
    Uint128;  // GCC and Clang; __extension__ keeps -Wpedantic quiet

/// floor(n / d) for every 64-bit n by a multiply and shifts (Granlund and Montgomery 1994,
/// figure 4.1), for divisors 1 <= d <= 2^63.
class Divider64 {
 public:
  explicit Divider64(std::uint64_t d);
  std::uint64_t divide(std::uint64_t n) const {
    const auto t = static_cast<std::uint64_t>((static_cast<Uint128>(magic_) * n) >> 64);
    return (t + ((n - t) >> shift1_)) >> shift2_;
  }

 private:
  std::uint64_t magic_;
  unsigned shift1_, shift2_;
};

/// What the kernels of one (s, k) layout precompute.
struct RadixTable {
  static constexpr unsigned kMaxDigits = 64;
  std::uint32_t s = 0;
  unsigned k = 0;                ///< digits per word
  unsigned low_digits = 0;       ///< h = ceil(k / 2): a word splits into lo < s^h and hi < s^(k-h)
  std::uint64_t low_pow = 0;     ///< s^h
  std::uint64_t word_bound = 0;  ///< s^k: every full word is below it
  Divider64 split{1};            ///< division by s^h
  /// Lane j of the digit extraction of a part x < s^h (mixed_radix.cpp): 1 / s^j and
  /// 0.5 - s^j / 2 for j < h, 0 after.
  static constexpr unsigned kMaxLanes = 32;  // h <= 32 because k <= 63
  alignas(64) std::array<double, kMaxLanes> inv{}, offset{};
  /// s^r for r <= k: the bound of a last word holding r digits.
  std::array<std::uint64_t, kMaxDigits + 1> pow{};
};

/// @param s 2..65536, k 1..max_digits_per_word(s) (asserted)
RadixTable make_radix_table(std::uint32_t s, unsigned k);

/// Packs n digits, each < s, into ceil(n / k) little-endian words at out.
void pack_radix(const std::uint16_t* digits, std::size_t n, const RadixTable& t, std::byte* out);

/// Index of the first word of the ceil(n / k) words at in that is out of range (>= s^k, or the
/// last word >= s^r when it holds r < k digits), or SIZE_MAX when all are valid.
std::size_t find_bad_radix_word(const std::byte* in, std::size_t n, const RadixTable& t);

/// Unpacks n digits from the ceil(n / k) words at in. Every word must be in range (checked
/// beforehand with find_bad_radix_word), else the digits are wrong (but memory stays safe).
void unpack_radix(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* digits);

/// Digit-by-digit versions with plain division, the definition of the format (for tests).
void pack_radix_reference(const std::uint16_t* digits, std::size_t n, std::uint32_t s, unsigned k,
                          std::byte* out);
void unpack_radix_reference(const std::byte* in, std::size_t n, std::uint32_t s, unsigned k,
                            std::uint16_t* digits);

}  // namespace dme::detail::codec
