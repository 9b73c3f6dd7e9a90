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
  /// Slots of the per-lane constants: a word's digits rounded up to whole vectors of doubles
  /// (up to 32 lanes: SVE's 2048-bit vectors).
  static constexpr unsigned kLaneSlots = kMaxDigits + 32;
  std::uint32_t s = 0;
  unsigned k = 0;                ///< digits per word
  unsigned low_digits = 0;       ///< h = ceil(k / 2): a word splits into lo < s^h and hi < s^(k-h)
  std::uint64_t low_pow = 0;     ///< s^h
  std::uint64_t word_bound = 0;  ///< s^k: every full word is below it
  Divider64 split{1};            ///< division by s^h
  Divider64 digit{1};            ///< division by s (the scalar kernel)
  /// The batched kernel (mixed_radix.cpp) cuts each part, lo and hi, into a remainder below
  /// chain_pow = s^chain_digits < 2^31 and a quotient (below 2^31 when `batched`: h <= 2 ·
  /// chain_digits), and takes their digits by repeated division by s in 32-bit lanes:
  /// floor(x / s) = floor(x·chain_mul / 2^(32 + chain_shift)) for every x < 2^31.
  unsigned chain_digits = 0, chain_shift = 0;
  std::uint32_t chain_mul = 0;
  bool batched = false;
  double chain_pow = 0, chain_inv = 0, chain_half = 0;  ///< s^chain_digits, fl(1 / it), half
  /// Lane j < k of the vector digit extraction (mixed_radix.cpp) computes digit m of a part x,
  /// m = j for the part lo (j < h) and m = j - h for hi: part[j] is 0 (lo) or 1 (hi), inv is
  /// fl(1 / s^m) and bias fl(inv / 2 - 1/2); inv_next is fl(1 / s^(m+1)) and half_next half of
  /// it. Lanes >= k are 0.
  alignas(64) std::array<double, kLaneSlots> part{}, inv{}, bias{}, inv_next{}, half_next{};
  /// The grouped kernel (mixed_radix.cpp), used on the targets of fixed vector size where
  /// s <= 2^15: a word's digits fall into `groups` groups of group_digits = p digits (the last
  /// may be shorter), p the largest with s^p <= 2^15, so that a group fits a 16-bit lane and
  /// floor(x / s) = floor(x·group_mul / 2^(16 + group_shift)) for every x < 2^15. The group
  /// values come from one exact split of the 64-bit word at s^(p·first_cut) into two parts
  /// below 2^40, from which the groups are peeled off one at a time by division by s^p.
  static constexpr unsigned kMaxGroups = 8;
  bool grouped = false;
  unsigned group_digits = 0, groups = 0, group_shift = 0, first_cut = 0;
  std::uint16_t group_mul = 0;
  /// Where non-zero, floor(x / s) = floor(x·group_mul_high / 2^16) for every x < s^p as well: a
  /// multiply-high with no shift (the quad kernel's s = 9, 10, 11; not 12, 13).
  std::uint16_t group_mul_high = 0;
  /// [0]: s^(p·first_cut), [1]: s^p; with fl(1 / it), half of that, and split_inv[0]·2^32.
  std::array<double, 2> split_pow{}, split_inv{}, split_half{};
  double split0_scaled = 0;
  /// Where groups hold 2..4 digits and s^p <= kMaxGroupTable, the grouped kernel takes a group's
  /// digits from this table (group_digit_table) instead of dividing: entry g holds the p digits
  /// of g as 16-bit lanes of a little-endian 64-bit word (digit j in bits 16j..16j+15, the lanes
  /// past p zero). Null elsewhere.
  static constexpr std::uint64_t kMaxGroupTable = std::uint64_t(1) << 14;
  const std::uint64_t* group_table = nullptr;
  /// Where grouped: division by s^(p·first_cut) (the integer first split: unpack_radix_table,
  /// and the grouped kernel without a fused multiply-add). Where group_table is set:
  /// ceil(2^64 / s^p), from which one 64x64 -> 128-bit product of a value below 2^40 gives both
  /// its quotient by s^p (the high half) and, from the low half, its remainder.
  Divider64 group_cut{1};
  std::uint64_t group_frac = 0;
  /// s^r for r <= k: the bound of a last word holding r digits.
  std::array<std::uint64_t, kMaxDigits + 1> pow{};
};

/// @param s 2..65536, k 1..max_digits_per_word(s) (asserted)
RadixTable make_radix_table(std::uint32_t s, unsigned k);

/// The table RadixTable::group_table describes for groups of p <= 4 digits of base s (s^p
/// entries), built on first use and kept for the life of the process (thread-safe).
const std::uint64_t* group_digit_table(std::uint32_t s, unsigned p);

/// Packs n digits, each < s, into ceil(n / k) little-endian words at out (mixed_radix_pack.cpp:
/// a lane per word on the fixed-size SIMD targets, pack_radix_scalar elsewhere and for the
/// words after the last whole batch).
void pack_radix(const std::uint16_t* digits, std::size_t n, const RadixTable& t, std::byte* out);
/// pack_radix by Horner's rule, word by word (four words' chains interleaved).
void pack_radix_scalar(const std::uint16_t* digits, std::size_t n, const RadixTable& t,
                       std::byte* out);

/// Sets bad when one of the first words at in (little-endian) is at least bound, a SIMD vector
/// of words at a time; returns how many of the `words` it covered (the caller checks the rest).
std::size_t vector_words_at_least(const std::byte* in, std::size_t words, std::uint64_t bound,
                                  bool& bad);

/// Index of the first word of the ceil(n / k) words at in that is out of range (>= s^k, or the
/// last word >= s^r when it holds r < k digits), or SIZE_MAX when all are valid.
std::size_t find_bad_radix_word(const std::byte* in, std::size_t n, const RadixTable& t);

/// Unpacks n digits from the ceil(n / k) words at in. Every word must be in range (checked
/// beforehand with find_bad_radix_word), else the digits are wrong (but memory stays safe).
void unpack_radix(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* digits);

/// unpack_radix by RadixTable::group_table (set; a little-endian machine, as the table's entries
/// are stored whole), no SIMD (mixed_radix_table.cpp): the groups of p digits of a word are
/// peeled off from the low end by integer division by s^p (a multiply-high each), and each
/// group's p digits are one 8-byte table entry stored at the group's first digit, in increasing
/// order, so that the zero lanes of a group shorter than four digits land on digits the next
/// store writes; the words whose last entry would run past n go through a buffer. For the
/// scalar target, whose other kernel divides digit by digit (a word of 19 base-10 digits: 4
/// divisions here against 19); the vector targets run the grouped kernel (mixed_radix.cpp).
void unpack_radix_table(const std::byte* in, std::size_t n, const RadixTable& t,
                        std::uint16_t* digits);

/// Digit-by-digit versions with plain division, the definition of the format (for tests).
void pack_radix_reference(const std::uint16_t* digits, std::size_t n, std::uint32_t s, unsigned k,
                          std::byte* out);
void unpack_radix_reference(const std::byte* in, std::size_t n, std::uint32_t s, unsigned k,
                            std::uint16_t* digits);

}  // namespace dme::detail::codec
