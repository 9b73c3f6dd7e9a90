#include "dme/codec/detail/mixed_radix.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "dme/codec/detail/endian.h"
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
  // s^h < 2^40 (s^k < 2^64, s <= 2^16), so the powers and their halves are exact doubles.
  for (unsigned j = 0; j < t.low_digits; ++j) {
    const double p = static_cast<double>(t.pow[j]);
    t.inv[j] = 1.0 / p;
    t.offset[j] = 0.5 - p / 2;
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

// Digit j of a part x < s^h is q_j - s·q_(j+1) with q_j = floor(x / s^j), and x < 2^40. Each
// lane computes q_j as round((x + 0.5 - s^j/2) · fl(1 / s^j)) = floor((x + 0.5) / s^j): the
// relative error of the product (< 2^-52, so < 2^-12 / s^j in absolute terms) is far below the
// distance 0.5 / s^j from (x + 0.5) / s^j to the nearest integer. Adding and subtracting
// kRound = 1.5·2^52 rounds to an integer (IEEE round-to-nearest; this file must not be built
// with -ffast-math, which would fold the pair away), and the digit is then exact. Lanes j >= h
// have all-zero constants and give q_j = 0, which is right for every x < s^h. The lanes are
// independent: 8 of them are one set of vector operations, and q_(j+1) is q shifted by a lane.
typedef double V8d __attribute__((vector_size(64)));
typedef std::int64_t V8l __attribute__((vector_size(64)));
typedef std::int32_t V8i __attribute__((vector_size(32)));
typedef std::uint16_t V8h __attribute__((vector_size(16)));
constexpr double kRound = 0x1.8p52;

template <unsigned Lanes>
inline void part_digits(std::uint64_t x, const RadixTable& t, std::uint16_t* out) {
  static_assert(Lanes % 8 == 0 && Lanes <= RadixTable::kMaxLanes);
  constexpr unsigned kVectors = Lanes / 8;
  const double xd = static_cast<double>(x);
  const double sd = t.s;
  V8d q[kVectors + 1];
  for (unsigned v = 0; v < kVectors; ++v) {
    // Loaded by memcpy: no function takes or returns a vector (that would change with the ABI).
    V8d off, inv;
    std::memcpy(&off, &t.offset[8 * v], sizeof off);
    std::memcpy(&inv, &t.inv[8 * v], sizeof inv);
    q[v] = ((xd + off) * inv + kRound) - kRound;
  }
  q[kVectors] = V8d{};  // lanes >= Lanes >= h
  for (unsigned v = 0; v < kVectors; ++v) {
#if defined(__clang__)
    const V8d next = __builtin_shufflevector(q[v], q[v + 1], 1, 2, 3, 4, 5, 6, 7, 8);
#else
    const V8d next = __builtin_shuffle(q[v], q[v + 1], V8l{1, 2, 3, 4, 5, 6, 7, 8});
#endif
    const V8i digit = __builtin_convertvector(q[v] - sd * next, V8i);  // exact: 0 <= digit < s
    const V8h d16 = __builtin_convertvector(digit, V8h);
    std::memcpy(out + 8 * v, &d16, sizeof d16);
  }
}

/// Writes the k digits of v to out[0, k) and scratch zeros or digits up to out[h + M).
template <unsigned M>
inline void unpack_word(std::uint64_t v, const RadixTable& t, std::uint16_t* out) {
  const std::uint64_t hi = t.split.divide(v);
  const std::uint64_t lo = v - hi * t.low_pow;
  part_digits<M>(lo, t, out);
  part_digits<M>(hi, t, out + t.low_digits);
}

template <unsigned M>
void unpack_words(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* out) {
  const std::size_t k = t.k, h = t.low_digits;
  const std::size_t words = (n + k - 1) / k;
  // Word w scribbles on out[w·k, w·k + h + M); the next word overwrites the excess, so words
  // go straight to out while that range fits and through a buffer after.
  const std::size_t direct = n >= h + M ? std::min(n / k, (n - h - M) / k + 1) : 0;
  std::size_t w = 0;
  for (; w < direct; ++w) unpack_word<M>(load_le<std::uint64_t>(in + 8 * w), t, out + w * k);
  std::uint16_t buf[2 * RadixTable::kMaxDigits];
  for (; w < words; ++w) {
    unpack_word<M>(load_le<std::uint64_t>(in + 8 * w), t, buf);
    std::copy_n(buf, std::min(k, n - w * k), out + w * k);
  }
}

}  // namespace

void pack_radix(const std::uint16_t* digits, std::size_t n, const RadixTable& t, std::byte* out) {
  const std::size_t k = t.k;
  const std::size_t full = n / k;
  for (std::size_t w = 0; w < full; ++w)
    store_le<std::uint64_t>(out + 8 * w, pack_word(digits + w * k, t.k, t));
  if (n > full * k)
    store_le<std::uint64_t>(out + 8 * full,
                            pack_word(digits + full * k, static_cast<unsigned>(n - full * k), t));
}

std::size_t find_bad_radix_word(const std::byte* in, std::size_t n, const RadixTable& t) {
  const std::size_t full = n / t.k;
  bool bad = false;
  for (std::size_t w = 0; w < full; ++w) bad |= load_le<std::uint64_t>(in + 8 * w) >= t.word_bound;
  if (bad) {
    for (std::size_t w = 0; w < full; ++w)
      if (load_le<std::uint64_t>(in + 8 * w) >= t.word_bound) return w;
  }
  const std::size_t rest = n - full * t.k;
  if (rest && load_le<std::uint64_t>(in + 8 * full) >= t.pow[rest]) return full;
  return SIZE_MAX;
}

void unpack_radix(const std::byte* in, std::size_t n, const RadixTable& t, std::uint16_t* digits) {
  const unsigned lanes = std::max(t.low_digits, t.k - t.low_digits);
  if (lanes <= 8) return unpack_words<8>(in, n, t, digits);
  if (lanes <= 16) return unpack_words<16>(in, n, t, digits);
  if (lanes <= 24) return unpack_words<24>(in, n, t, digits);
  DME_ASSERT(lanes <= 32);
  return unpack_words<32>(in, n, t, digits);
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
