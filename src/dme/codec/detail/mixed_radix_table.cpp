// The table kernel of mixed-radix unpacking (mixed_radix.h, unpack_radix_table): plain C++, no
// SIMD, for the scalar target, whose other kernel divides digit by digit.
#include <algorithm>
#include <array>
#include <cstring>

#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/mixed_radix.h"

namespace dme::detail::codec {

namespace {

/// floor(x / P) and x mod P (P = s^p) for x < 2^40, from one 128-bit product and a multiply-high
/// (make_radix_table states the bound).
inline std::uint64_t divmod_group(std::uint64_t x, std::uint64_t frac, std::uint64_t pow,
                                  std::uint64_t& rem) {
  const Uint128 prod = static_cast<Uint128>(frac) * x;
  rem = static_cast<std::uint64_t>((static_cast<Uint128>(static_cast<std::uint64_t>(prod)) * pow) >>
                                   64);
  return static_cast<std::uint64_t>(prod >> 64);
}

template <std::size_t G>
void table_words(const std::byte* in, std::size_t words, const RadixTable& t, std::uint16_t* out) {
  const std::size_t k = t.k, p = t.group_digits, m = t.first_cut;
  const std::uint64_t* table = t.group_table;
  const std::uint64_t group_pow = t.pow[p], cut_pow = t.pow[p * m], frac = t.group_frac;
  // The last group of a valid word is below s^p; clamped, so that a word out of range (whose
  // digits are wrong anyway) reads inside the table.
  const std::uint64_t last = group_pow - 1;
  const auto entry = [&](std::size_t g, std::uint64_t value, std::uint16_t* o) {
    std::memcpy(o + g * p, table + value, sizeof(std::uint64_t));
  };
  for (std::size_t w = 0; w < words; ++w, out += k) {
    const std::uint64_t v = load_le<std::uint64_t>(in + 8 * w);
    // Two independent chains: groups [0, m) from lo = v mod s^(p·m), groups [m, G) from
    // hi = floor(v / s^(p·m)), both below 2^40 for a valid word (hi is clamped below for any).
    const std::uint64_t cut = t.group_cut.divide(v);
    std::uint64_t lo = v - cut * cut_pow;
    std::uint64_t hi = std::min(cut, (std::uint64_t(1) << 40) - 1);
    for (std::size_t g = 0; g + 1 < m; ++g) {
      std::uint64_t r;
      lo = divmod_group(lo, frac, group_pow, r);
      entry(g, r, out);
    }
    entry(m - 1, lo, out);
    for (std::size_t g = m; g + 1 < G; ++g) {
      std::uint64_t r;
      hi = divmod_group(hi, frac, group_pow, r);
      entry(g, r, out);
    }
    entry(G - 1, std::min(hi, last), out);
  }
}

using TableWords = void (*)(const std::byte*, std::size_t, const RadixTable&, std::uint16_t*);
constexpr std::array<TableWords, RadixTable::kMaxGroups + 1> kTableWords = {
    nullptr,        nullptr,        table_words<2>, table_words<3>, table_words<4>,
    table_words<5>, table_words<6>, table_words<7>, table_words<8>};

}  // namespace

void unpack_radix_table(const std::byte* in, std::size_t n, const RadixTable& t,
                        std::uint16_t* digits) {
  const std::size_t k = t.k;
  const std::size_t words = (n + k - 1) / k;
  const std::size_t extent = (t.groups - 1) * t.group_digits + 4;
  const std::size_t direct = n >= extent ? std::min(words, (n - extent) / k + 1) : 0;
  const TableWords run = kTableWords[t.groups];
  run(in, direct, t, digits);
  std::uint16_t buf[RadixTable::kMaxDigits + 8];
  for (std::size_t w = direct; w < words; ++w) {
    run(in + 8 * w, 1, t, buf);
    std::copy_n(buf, std::min(k, n - w * k), digits + w * k);
  }
}
}  // namespace dme::detail::codec
