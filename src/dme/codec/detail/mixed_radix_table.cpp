// The table kernel of mixed-radix unpacking (mixed_radix.h, unpack_radix_table): plain C++, no
// SIMD, for the targets whose other kernels divide digit by digit.
#include <algorithm>
#include <array>
#include <cstring>

#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/mixed_radix.h"

namespace dme::detail::codec {

namespace {

template <std::size_t G>
void table_words(const std::byte* in, std::size_t words, const RadixTable& t, std::uint16_t* out) {
  const std::size_t k = t.k, p = t.group_digits;
  const std::uint64_t* table = t.group_table;
  const std::uint64_t group_pow = t.pow[p];
  // The last group of a valid word is below s^p; clamped, so that a word out of range (whose
  // digits are wrong anyway) reads inside the table.
  const std::uint64_t last = group_pow - 1;
  for (std::size_t w = 0; w < words; ++w, out += k) {
    std::uint64_t v = load_le<std::uint64_t>(in + 8 * w);
    for (std::size_t g = 0; g + 1 < G; ++g) {
      const std::uint64_t q = t.group_div.divide(v);
      std::memcpy(out + g * p, table + (v - q * group_pow), sizeof(std::uint64_t));
      v = q;
    }
    std::memcpy(out + (G - 1) * p, table + std::min(v, last), sizeof(std::uint64_t));
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
