#include "dme/codec/detail/fixed_width.h"

#include <algorithm>
#include <cstring>

#include "dme/codec/detail/endian.h"
#include "dme/core/error.h"

// pdep/pext move 8 codes between b-bit fields and bytes in one instruction each, and SSE4.1
// widens or narrows the 8 bytes; without them the kernels shift and mask.
#if defined(__BMI2__) && defined(__SSE4_1__)
#define DME_CODEC_PDEP 1
#include <immintrin.h>
#endif
#include "dme/core/detail/simd.h"

namespace dme::detail::codec {
namespace {

// The low b bits of every byte: pdep spreads 8 packed b-bit codes into the 8 bytes of a word.
constexpr std::uint64_t byte_lanes_mask(unsigned b) {
  return 0x0101010101010101ull * ((1ull << b) - 1);
}

/// 8 b-bit codes (b <= 8) from the low 8·b bits of v.
template <unsigned B>
inline void expand8(std::uint64_t v, std::uint16_t* out) {
#if defined(DME_CODEC_PDEP)
  const std::uint64_t x = _pdep_u64(v, byte_lanes_mask(B));
  const __m128i wide = _mm_cvtepu8_epi16(_mm_cvtsi64_si128(static_cast<long long>(x)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), wide);
#else
  for (unsigned k = 0; k < 8; ++k)
    out[k] = static_cast<std::uint16_t>((v >> (k * B)) & ((1u << B) - 1));
#endif
}

/// The inverse of expand8: 8 codes < 2^B into the low 8·B bits.
template <unsigned B>
inline std::uint64_t compress8(const std::uint16_t* c) {
#if defined(DME_CODEC_PDEP)
  const __m128i wide = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c));
  // Codes are < 2^B <= 128 here, so the saturating pack is a plain narrowing.
  const auto x = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_packus_epi16(wide, wide)));
  return _pext_u64(x, byte_lanes_mask(B));
#else
  std::uint64_t v = 0;
  for (unsigned k = 0; k < 8; ++k) v |= std::uint64_t(c[k]) << (k * B);
  return v;
#endif
}

// Groups of 8 codes move as one 64-bit load or store of which B bytes matter; the full-width
// access is used while 8 bytes remain in the buffer, the exact B bytes after that.
#if DME_HAVE_AVX512
// 32 codes < 2^B (B = 1, 2, 4) into 4·B bytes: multiply-adds merge neighbouring codes (16-bit
// pairs (c, c') into c + c'·2^B in 32-bit lanes; for B < 4 the lanes are narrowed to 16 bits and
// merged again), and the low bytes of the lanes are the packed bytes. Returns the number of
// codes packed (a multiple of 32).
template <unsigned B>
std::size_t pack_vector(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  const auto merge = [](__m512i v, unsigned bits) {
    return _mm512_madd_epi16(v, _mm512_set1_epi32(static_cast<int>(1u | (1u << (16 + bits)))));
  };
  const auto narrow = [](__m512i v) { return _mm512_zextsi256_si512(_mm512_cvtepi32_epi16(v)); };
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i v = merge(_mm512_loadu_si512(codes + i), B);  // 16 lanes of 2·B bits
    if constexpr (B <= 2) v = merge(narrow(v), 2 * B);    // 8 lanes of 4·B bits
    if constexpr (B == 1) v = merge(narrow(v), 4);        // 4 lanes of 8 bits
    const __m128i bytes = _mm512_cvtepi32_epi8(v);
    if constexpr (B == 4) _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i / 2), bytes);
    if constexpr (B == 2) _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i / 4), bytes);
    if constexpr (B == 1) {
      const auto word = static_cast<std::uint32_t>(_mm_cvtsi128_si32(bytes));
      std::memcpy(out + i / 8, &word, 4);
    }
  }
  return i;
}
#endif

template <unsigned B>
void pack_small(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  const std::size_t groups = n / 8;
  const std::size_t out_size = (n * B + 7) / 8;
  const std::size_t wide = out_size >= 8 ? std::min(groups, (out_size - 8) / B + 1) : 0;
  std::size_t g = 0;
#if DME_HAVE_AVX512
  if constexpr (B == 1 || B == 2 || B == 4) g = pack_vector<B>(codes, 8 * groups, out) / 8;
#endif
  for (; g < wide; ++g) store_le<std::uint64_t>(out + g * B, compress8<B>(codes + 8 * g));
  for (; g < groups; ++g) store_le_partial(out + g * B, compress8<B>(codes + 8 * g), B);
  const std::size_t rest = n - 8 * groups;
  if (rest) {
    std::uint64_t v = 0;
    for (std::size_t k = 0; k < rest; ++k) v |= std::uint64_t(codes[8 * groups + k]) << (k * B);
    store_le_partial(out + groups * B, v, (rest * B + 7) / 8);
  }
}

template <unsigned B>
bool unpack_small(const std::byte* in, std::size_t in_size, std::size_t n, std::uint16_t* codes) {
  const std::size_t groups = n / 8;
  const std::size_t wide = in_size >= 8 ? std::min(groups, (in_size - 8) / B + 1) : 0;
  std::size_t g = 0;
  for (; g < wide; ++g) expand8<B>(load_le<std::uint64_t>(in + g * B), codes + 8 * g);
  for (; g < groups; ++g) expand8<B>(load_le_partial(in + g * B, B), codes + 8 * g);
  const std::size_t rest = n - 8 * groups;
  if (!rest) return true;
  const std::uint64_t v = load_le_partial(in + groups * B, (rest * B + 7) / 8);
  for (std::size_t k = 0; k < rest; ++k)
    codes[8 * groups + k] = static_cast<std::uint16_t>((v >> (k * B)) & ((1u << B) - 1));
  return (v >> (rest * B)) == 0;
}

void pack_bytes(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte(static_cast<std::uint8_t>(codes[i]));
}

void unpack_bytes(const std::byte* in, std::size_t n, std::uint16_t* codes) {
  for (std::size_t i = 0; i < n; ++i) codes[i] = std::to_integer<std::uint8_t>(in[i]);
}

void pack_u16(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, codes, n * 2);
  } else {
    for (std::size_t i = 0; i < n; ++i) store_le<std::uint16_t>(out + 2 * i, codes[i]);
  }
}

void unpack_u16(const std::byte* in, std::size_t n, std::uint16_t* codes) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(codes, in, n * 2);
  } else {
    for (std::size_t i = 0; i < n; ++i) codes[i] = load_le<std::uint16_t>(in + 2 * i);
  }
}

}  // namespace

void pack_fixed(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out) {
  if (n == 0) return;  // empty spans may hold null pointers, which memcpy must not see
  switch (bits) {
    case 1:
      return pack_small<1>(codes, n, out);
    case 2:
      return pack_small<2>(codes, n, out);
    case 3:
      return pack_small<3>(codes, n, out);
    case 4:
      return pack_small<4>(codes, n, out);
    case 5:
      return pack_small<5>(codes, n, out);
    case 6:
      return pack_small<6>(codes, n, out);
    case 7:
      return pack_small<7>(codes, n, out);
    case 8:
      return pack_bytes(codes, n, out);
    case 16:
      return pack_u16(codes, n, out);
    default:
      DME_ASSERT(false && "unsupported code width");
  }
}

bool unpack_fixed(const std::byte* in, std::size_t in_size, unsigned bits, std::size_t n,
                  std::uint16_t* codes) {
  if (n == 0) return true;
  switch (bits) {
    case 1:
      return unpack_small<1>(in, in_size, n, codes);
    case 2:
      return unpack_small<2>(in, in_size, n, codes);
    case 3:
      return unpack_small<3>(in, in_size, n, codes);
    case 4:
      return unpack_small<4>(in, in_size, n, codes);
    case 5:
      return unpack_small<5>(in, in_size, n, codes);
    case 6:
      return unpack_small<6>(in, in_size, n, codes);
    case 7:
      return unpack_small<7>(in, in_size, n, codes);
    case 8:
      unpack_bytes(in, n, codes);
      return true;
    case 16:
      unpack_u16(in, n, codes);
      return true;
    default:
      DME_ASSERT(false && "unsupported code width");
  }
  return false;
}

void pack_fixed_reference(const std::uint16_t* codes, std::size_t n, unsigned bits,
                          std::byte* out) {
  const std::size_t bytes = (n * bits + 7) / 8;
  std::fill(out, out + bytes, std::byte{0});
  for (std::size_t i = 0; i < n; ++i)
    for (unsigned t = 0; t < bits; ++t)
      if ((codes[i] >> t) & 1u) {
        const std::size_t j = i * bits + t;
        out[j / 8] |= std::byte(1u << (j % 8));
      }
}

bool unpack_fixed_reference(const std::byte* in, unsigned bits, std::size_t n,
                            std::uint16_t* codes) {
  auto bit = [&](std::size_t j) { return (std::to_integer<unsigned>(in[j / 8]) >> (j % 8)) & 1u; };
  for (std::size_t i = 0; i < n; ++i) {
    unsigned c = 0;
    for (unsigned t = 0; t < bits; ++t) c |= bit(i * bits + t) << t;
    codes[i] = static_cast<std::uint16_t>(c);
  }
  for (std::size_t j = n * bits; j < (n * bits + 7) / 8 * 8; ++j)
    if (bit(j)) return false;
  return true;
}

}  // namespace dme::detail::codec
