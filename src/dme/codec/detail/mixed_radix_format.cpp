// The mixed-radix format (mixed_radix.h): the tables the kernels use, the scalar packing, range
// checks and the digit-by-digit references, plain C++ compiled once. The SIMD kernels are in
// mixed_radix.cpp (unpacking) and mixed_radix_pack.cpp (packing).
#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/mixed_radix.h"
#include "dme/core/error.h"

namespace dme::detail::codec {

Divider64::Divider64(std::uint64_t d) {
  DME_ASSERT(d >= 1 && d <= (std::uint64_t(1) << 63));
  const unsigned l =
      d == 1 ? 0u : 64u - static_cast<unsigned>(std::countl_zero(d - 1));  // ceil(log2 d)
  // m = floor(2^64 (2^l - d) / d) + 1 < 2^64 because 2^l - d < d.
  const Uint128 num = static_cast<Uint128>((std::uint64_t(1) << l) - d) << 64;
  magic_ = static_cast<std::uint64_t>(num / d) + 1;
  shift1_ = std::min(l, 1u);
  shift2_ = l == 0 ? 0 : l - 1;
}

const std::uint64_t* group_digit_table(std::uint32_t s, unsigned p) {
  DME_ASSERT(s >= 2 && p >= 1 && p <= 4);
  static std::mutex mutex;
  static std::map<std::pair<std::uint32_t, unsigned>, std::vector<std::uint64_t>> tables;
  const std::lock_guard<std::mutex> lock(mutex);
  std::vector<std::uint64_t>& table = tables[{s, p}];
  if (table.empty()) {
    std::uint64_t entries = 1;
    for (unsigned j = 0; j < p; ++j) entries *= s;
    DME_ASSERT(entries <= RadixTable::kMaxGroupTable);
    table.resize(entries);
    for (std::uint64_t g = 0; g < entries; ++g) {
      std::uint64_t x = g, entry = 0;
      for (unsigned j = 0; j < p; ++j, x /= s) entry |= (x % s) << (16 * j);
      table[g] = entry;
    }
  }
  return table.data();  // a map's elements never move; the vector is never resized again
}

RadixTable make_radix_table(std::uint32_t s, unsigned k) {
  DME_ASSERT(s >= 2 && k >= 1 && k <= RadixTable::kMaxDigits);
  RadixTable t;
  t.s = s;
  t.k = k;
  t.low_digits = (k + 1) / 2;
  t.pow[0] = 1;
  for (unsigned r = 1; r <= k; ++r) {
    DME_ASSERT(!__builtin_mul_overflow(t.pow[r - 1], std::uint64_t(s), &t.pow[r]));
  }
  t.word_bound = t.pow[k];
  t.low_pow = t.pow[t.low_digits];
  t.split = Divider64(t.low_pow);
  t.digit = Divider64(s);
  // Chains start below 2^31: the largest m with s^m < 2^31 (at least 1, as s <= 2^16).
  std::uint64_t chain_pow = 1;
  while (chain_pow * s < (std::uint64_t(1) << 31)) {
    chain_pow *= s;
    ++t.chain_digits;
  }
  t.batched = t.low_digits <= 2 * t.chain_digits;
  t.chain_pow = static_cast<double>(chain_pow);
  t.chain_inv = 1.0 / t.chain_pow;
  t.chain_half = t.chain_inv / 2;
  // M = ceil(2^(31 + l) / s) with l = ceil(log2 s) >= 1: M·s = 2^(31 + l) + e with e < s <= 2^l,
  // so x·M / 2^(31 + l) = x / s + x·e / (s·2^(31 + l)), and for x < 2^31 the error term is below
  // 2^-l <= 1 / s while x / s is at least 1 / s below the next integer: the floor is floor(x / s).
  // M < 2^32: M = 2^31 when s is a power of two; otherwise s >= 2^(l-1) + 1 keeps 2^(31 + l) / s
  // at most 2^32 / (1 + 2^(1-l)) < 2^32 - 2^16.
  const unsigned l = static_cast<unsigned>(std::bit_width(s - 1));
  t.chain_mul = static_cast<std::uint32_t>(((std::uint64_t(1) << (31 + l)) + s - 1) / s);
  t.chain_shift = l - 1;  // the kernel takes the high 32 bits of x·M, then shifts by l - 1
  // The grouped kernel's 16-bit division: M = ceil(2^(15 + l) / s) < 2^16 (s >= 2^(l-1) + 1,
  // or s = 2^l and M = 2^15) and M·s = 2^(15 + l) + e with e < s <= 2^l, so for x = q·s + r < 2^15
  // x·M / 2^(15 + l) = x / s + x·e / (s·2^(15 + l)) < q + (s - 1) / s + 2^-l <= q + 1.
  if (s <= (1u << 15)) {
    std::uint64_t group_pow = 1;
    while (group_pow * s <= (std::uint64_t(1) << 15)) {
      group_pow *= s;
      ++t.group_digits;
    }
    const unsigned p = t.group_digits;
    t.groups = (k + p - 1) / p;
    t.grouped = t.groups >= 2;  // one group: the word is a single 16-bit lane, nothing to split
    t.group_mul = static_cast<std::uint16_t>(((std::uint64_t(1) << (15 + l)) + s - 1) / s);
    t.group_shift = l - 1;
    // With M = ceil(2^16 / s) and M·s = 2^16 + e, x·M / 2^16 = x / s + x·e / (s·2^16), whose
    // floor is floor(x / s) when x·e < 2^16 (the fraction of x / s is at most (s - 1) / s).
    const std::uint64_t m = ((std::uint64_t(1) << 16) + s - 1) / s;
    if (m < (std::uint64_t(1) << 16) &&
        (group_pow - 1) * (m * s - (std::uint64_t(1) << 16)) < (std::uint64_t(1) << 16))
      t.group_mul_high = static_cast<std::uint16_t>(m);
  }
  if (t.grouped) {
    const unsigned p = t.group_digits, g = t.groups;
    DME_ASSERT(g <= RadixTable::kMaxGroups);
    // Split 0 cuts at the fewest low groups that leave a quotient below 2^40: then the
    // remainder is below 2^39 too (s^(p·(m-1)) < s^k / 2^40 < 2^24 and s^p <= 2^15), and the
    // cut leaves at least one group above it (the last group is below 2^15).
    unsigned m = 1;
    while (t.pow[k - p * m] > (std::uint64_t(1) << 40)) ++m;
    DME_ASSERT(m < g);
    t.first_cut = m;
    t.split_pow[0] = static_cast<double>(t.pow[p * m]);
    t.split_pow[1] = static_cast<double>(t.pow[p]);
    for (unsigned i = 0; i < 2; ++i) {
      t.split_inv[i] = 1.0 / t.split_pow[i];
      t.split_half[i] = t.split_inv[i] / 2;
    }
    t.split0_scaled = t.split_inv[0] * 4294967296.0;
    t.group_cut = Divider64(t.pow[p * m]);
    if (p >= 2 && p <= 4 && t.pow[p] <= RadixTable::kMaxGroupTable) {
      t.group_table = group_digit_table(s, p);
      // M = ceil(2^64 / P), P = s^p <= 2^14, and x < 2^40: M·x = 2^64·x / P + x·e with e < 1, so
      // the high half is floor(x / P) and the low half is 2^64·(x mod P) / P + x·e, whose
      // product with P, shifted down by 64, is x mod P since x·e·P < 2^54 < 2^64 (the bound of
      // Lemire, Kaser and Kurz 2019, with 64 fraction bits >= 40 + 14).
      t.group_frac = ~std::uint64_t{0} / t.pow[p] + 1;
    }
  }
  // s^h < 2^40 (s^k < 2^64, s <= 2^16), so the powers up to s^h are exact doubles and halving
  // their reciprocals is exact.
  for (unsigned j = 0; j < k; ++j) {
    const unsigned m = j < t.low_digits ? j : j - t.low_digits;
    t.part[j] = j < t.low_digits ? 0.0 : 1.0;
    t.inv[j] = 1.0 / static_cast<double>(t.pow[m]);
    t.bias[j] = t.inv[j] / 2 - 0.5;
    t.inv_next[j] = 1.0 / static_cast<double>(t.pow[m + 1]);
    t.half_next[j] = t.inv_next[j] / 2;
  }
  return t;
}

namespace {

/// x = Σ_{j<m} d[j]·s^j by Horner's rule.
inline std::uint64_t horner(const std::uint16_t* d, unsigned m, std::uint64_t s) {
  std::uint64_t v = 0;
  for (unsigned j = m; j-- > 0;) v = v * s + d[j];
  return v;
}

/// A word of m <= k digits; its two halves are independent chains.
inline std::uint64_t pack_word(const std::uint16_t* d, unsigned m, const RadixTable& t) {
  const unsigned h = std::min(m, t.low_digits);
  const std::uint64_t lo = horner(d, h, t.s);
  const std::uint64_t hi = horner(d + h, m - h, t.s);
  return hi * t.low_pow + lo;
}

/// kWords full words at once: 2·kWords independent Horner chains (one per half of each word),
/// interleaved step by step so that their multiplies overlap (one word's two chains alone wait
/// on each multiply's latency). The same sums as pack_word, so the same words.
template <std::size_t kWords>
void pack_words(const std::uint16_t* d, const RadixTable& t, std::byte* out) {
  const unsigned k = t.k, h = t.low_digits;
  const std::uint64_t s = t.s;
  std::uint64_t lo[kWords] = {}, hi[kWords] = {};
  for (unsigned j = k; j-- > h;)
    for (std::size_t i = 0; i < kWords; ++i) hi[i] = hi[i] * s + d[i * k + j];
  for (unsigned j = h; j-- > 0;)
    for (std::size_t i = 0; i < kWords; ++i) lo[i] = lo[i] * s + d[i * k + j];
  for (std::size_t i = 0; i < kWords; ++i)
    store_le<std::uint64_t>(out + 8 * i, hi[i] * t.low_pow + lo[i]);
}

}  // namespace

void pack_radix_scalar(const std::uint16_t* digits, std::size_t n, const RadixTable& t,
                       std::byte* out) {
  const std::size_t k = t.k;
  const std::size_t full = n / k;
  constexpr std::size_t kWords = 4;
  std::size_t w = 0;
  for (; w + kWords <= full; w += kWords) pack_words<kWords>(digits + w * k, t, out + 8 * w);
  for (; w < full; ++w) store_le<std::uint64_t>(out + 8 * w, pack_word(digits + w * k, t.k, t));
  if (n > full * k)
    store_le<std::uint64_t>(out + 8 * full,
                            pack_word(digits + full * k, static_cast<unsigned>(n - full * k), t));
}

std::size_t find_bad_radix_word(const std::byte* in, std::size_t n, const RadixTable& t) {
  const std::size_t full = n / t.k;
  bool vector_bad = false;
  bool bad = false;
  for (std::size_t w = vector_words_at_least(in, full, t.word_bound, vector_bad); w < full; ++w)
    bad |= load_le<std::uint64_t>(in + 8 * w) >= t.word_bound;
  if (bad || vector_bad) {  // then the first one, word by word
    for (std::size_t w = 0; w < full; ++w)
      if (load_le<std::uint64_t>(in + 8 * w) >= t.word_bound) return w;
  }
  const std::size_t rest = n - full * t.k;
  if (rest && load_le<std::uint64_t>(in + 8 * full) >= t.pow[rest]) return full;
  return SIZE_MAX;
}

void pack_radix_reference(const std::uint16_t* digits, std::size_t n, std::uint32_t s, unsigned k,
                          std::byte* out) {
  for (std::size_t w = 0; w * k < n; ++w) {
    std::uint64_t v = 0, p = 1;
    for (std::size_t j = 0; j < k && w * k + j < n; ++j, p *= s) v += digits[w * k + j] * p;
    store_le<std::uint64_t>(out + 8 * w, v);
  }
}

void unpack_radix_reference(const std::byte* in, std::size_t n, std::uint32_t s, unsigned k,
                            std::uint16_t* digits) {
  for (std::size_t w = 0; w * k < n; ++w) {
    std::uint64_t v = load_le<std::uint64_t>(in + 8 * w);
    for (std::size_t j = 0; j < k && w * k + j < n; ++j, v /= s)
      digits[w * k + j] = static_cast<std::uint16_t>(v % s);
  }
}

}  // namespace dme::detail::codec
