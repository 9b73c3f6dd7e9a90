// Fixed-width packing kernels: the scalar loops (the HWY_SCALAR target and every tail) and one
// Highway source for every SIMD target (SSE4, AVX2, AVX-512, NEON), chosen at run time
// (dme/core/simd.h). All of them write and read the same bytes (bitpack.h defines the format).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/codec/detail/fixed_width.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#ifndef DME_CODEC_FIXED_WIDTH_ONCE
#define DME_CODEC_FIXED_WIDTH_ONCE
#include <algorithm>
#include <cstring>

#include "dme/codec/detail/endian.h"
#include "dme/codec/detail/fixed_width.h"
#include "dme/core/error.h"

namespace dme::detail::codec {
namespace {

/// 8 b-bit codes (b <= 8) from the low 8·b bits of v.
template <unsigned B>
inline void expand8(std::uint64_t v, std::uint16_t* out) {
  for (unsigned k = 0; k < 8; ++k)
    out[k] = static_cast<std::uint16_t>((v >> (k * B)) & ((1u << B) - 1));
}

/// The inverse of expand8: 8 codes < 2^B into the low 8·B bits.
template <unsigned B>
inline std::uint64_t compress8(const std::uint16_t* c) {
  std::uint64_t v = 0;
  for (unsigned k = 0; k < 8; ++k) v |= std::uint64_t(c[k]) << (k * B);
  return v;
}

// Groups of 8 codes (B bytes) from group g on, then the codes after the last whole group. A
// group moves as one 64-bit load or store of which B bytes matter while 8 bytes remain in the
// buffer, as the exact B bytes after that.
template <unsigned B>
void pack_small_from(const std::uint16_t* codes, std::size_t n, std::byte* out, std::size_t g) {
  const std::size_t groups = n / 8;
  const std::size_t out_size = (n * B + 7) / 8;
  const std::size_t wide = out_size >= 8 ? std::min(groups, (out_size - 8) / B + 1) : 0;
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
bool unpack_small_from(const std::byte* in, std::size_t in_size, std::size_t n,
                       std::uint16_t* codes, std::size_t g) {
  const std::size_t groups = n / 8;
  const std::size_t wide = in_size >= 8 ? std::min(groups, (in_size - 8) / B + 1) : 0;
  for (; g < wide; ++g) expand8<B>(load_le<std::uint64_t>(in + g * B), codes + 8 * g);
  for (; g < groups; ++g) expand8<B>(load_le_partial(in + g * B, B), codes + 8 * g);
  const std::size_t rest = n - 8 * groups;
  if (!rest) return true;
  const std::uint64_t v = load_le_partial(in + groups * B, (rest * B + 7) / 8);
  for (std::size_t k = 0; k < rest; ++k)
    codes[8 * groups + k] = static_cast<std::uint16_t>((v >> (k * B)) & ((1u << B) - 1));
  return (v >> (rest * B)) == 0;
}

// Widths 9..15: a group of 8 codes is B bytes, moved through a 128-bit value byte by byte (the
// scalar target, and the groups after the vector kernels below).
__extension__ typedef unsigned __int128 Wide;  // GCC and Clang

template <unsigned B>
void pack_wide(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  for (std::size_t start = 0; start < n; start += 8) {
    const std::size_t m = std::min<std::size_t>(8, n - start);
    Wide v = 0;
    for (std::size_t k = 0; k < m; ++k) v |= Wide(codes[start + k]) << (k * B);
    const std::size_t bytes = (m * B + 7) / 8;
    for (std::size_t j = 0; j < bytes; ++j)
      out[start / 8 * B + j] = std::byte(static_cast<std::uint8_t>(v >> (8 * j)));
  }
}

template <unsigned B>
bool unpack_wide(const std::byte* in, std::size_t n, std::uint16_t* codes) {
  for (std::size_t start = 0; start < n; start += 8) {
    const std::size_t m = std::min<std::size_t>(8, n - start);
    const std::size_t bytes = (m * B + 7) / 8;
    Wide v = 0;
    for (std::size_t j = 0; j < bytes; ++j)
      v |= Wide(std::to_integer<std::uint8_t>(in[start / 8 * B + j])) << (8 * j);
    for (std::size_t k = 0; k < m; ++k)
      codes[start + k] = static_cast<std::uint16_t>((v >> (k * B)) & ((1u << B) - 1));
    if (m < 8 && (v >> (m * B)) != 0) return false;  // padding bits after the last code
  }
  return true;
}

inline void pack_bytes_scalar(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = std::byte(static_cast<std::uint8_t>(codes[i]));
}

inline void unpack_bytes_scalar(const std::byte* in, std::size_t n, std::uint16_t* codes) {
  for (std::size_t i = 0; i < n; ++i) codes[i] = std::to_integer<std::uint8_t>(in[i]);
}

inline void pack_u16(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(out, codes, n * 2);
  } else {
    for (std::size_t i = 0; i < n; ++i) store_le<std::uint16_t>(out + 2 * i, codes[i]);
  }
}

inline void unpack_u16(const std::byte* in, std::size_t n, std::uint16_t* codes) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(codes, in, n * 2);
  } else {
    for (std::size_t i = 0; i < n; ++i) codes[i] = load_le<std::uint16_t>(in + 2 * i);
  }
}

inline std::uint16_t max_code_scalar(const std::uint16_t* codes, std::size_t n) {
  std::uint16_t top = 0;
  for (std::size_t i = 0; i < n; ++i) top = std::max(top, codes[i]);
  return top;
}

void pack_fixed_scalar(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out) {
  switch (bits) {
    case 1:
      return pack_small_from<1>(codes, n, out, 0);
    case 2:
      return pack_small_from<2>(codes, n, out, 0);
    case 3:
      return pack_small_from<3>(codes, n, out, 0);
    case 4:
      return pack_small_from<4>(codes, n, out, 0);
    case 5:
      return pack_small_from<5>(codes, n, out, 0);
    case 6:
      return pack_small_from<6>(codes, n, out, 0);
    case 7:
      return pack_small_from<7>(codes, n, out, 0);
    case 8:
      return pack_bytes_scalar(codes, n, out);
    case 9:
      return pack_wide<9>(codes, n, out);
    case 10:
      return pack_wide<10>(codes, n, out);
    case 11:
      return pack_wide<11>(codes, n, out);
    case 12:
      return pack_wide<12>(codes, n, out);
    case 13:
      return pack_wide<13>(codes, n, out);
    case 14:
      return pack_wide<14>(codes, n, out);
    case 15:
      return pack_wide<15>(codes, n, out);
    case 16:
      return pack_u16(codes, n, out);
    default:
      DME_ASSERT(false && "unsupported code width");
  }
}

bool unpack_fixed_scalar(const std::byte* in, std::size_t in_size, unsigned bits, std::size_t n,
                         std::uint16_t* codes) {
  switch (bits) {
    case 1:
      return unpack_small_from<1>(in, in_size, n, codes, 0);
    case 2:
      return unpack_small_from<2>(in, in_size, n, codes, 0);
    case 3:
      return unpack_small_from<3>(in, in_size, n, codes, 0);
    case 4:
      return unpack_small_from<4>(in, in_size, n, codes, 0);
    case 5:
      return unpack_small_from<5>(in, in_size, n, codes, 0);
    case 6:
      return unpack_small_from<6>(in, in_size, n, codes, 0);
    case 7:
      return unpack_small_from<7>(in, in_size, n, codes, 0);
    case 8:
      unpack_bytes_scalar(in, n, codes);
      return true;
    case 9:
      return unpack_wide<9>(in, n, codes);
    case 10:
      return unpack_wide<10>(in, n, codes);
    case 11:
      return unpack_wide<11>(in, n, codes);
    case 12:
      return unpack_wide<12>(in, n, codes);
    case 13:
      return unpack_wide<13>(in, n, codes);
    case 14:
      return unpack_wide<14>(in, n, codes);
    case 15:
      return unpack_wide<15>(in, n, codes);
    case 16:
      unpack_u16(in, n, codes);
      return true;
    default:
      DME_ASSERT(false && "unsupported code width");
  }
  return false;
}

}  // namespace
}  // namespace dme::detail::codec
#endif  // DME_CODEC_FIXED_WIDTH_ONCE

HWY_BEFORE_NAMESPACE();
namespace dme::detail::codec::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#if HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE
std::uint16_t MaxCode(const std::uint16_t* codes, std::size_t n) {
  return max_code_scalar(codes, n);
}
// One-lane fallback target: the scalar loops. Scalable vectors (SVE, RVV) take them too: the
// kernels below build vectors 128-bit block by block, which needs a size known at compile time.
void PackFixed(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out) {
  pack_fixed_scalar(codes, n, bits, out);
}
bool UnpackFixed(const std::byte* in, std::size_t in_size, unsigned bits, std::size_t n,
                 std::uint16_t* codes) {
  return unpack_fixed_scalar(in, in_size, bits, n, codes);
}
#else
namespace {

// Every 128-bit block of a u16 vector holds the 8 codes of one group, B bytes on the wire, so
// both directions are shuffles inside a block once each block sees its group's bytes: block j of
// a vector starting at group g reads 16 bytes from group g + j - j % 2 (two neighbouring groups,
// 2·B <= 14 bytes, share one 16-byte window, so AVX2 needs a single broadcast load).
using D16 = hn::ScalableTag<std::uint16_t>;
using D8 = hn::Repartition<std::uint8_t, D16>;
using D64 = hn::Repartition<std::uint64_t, D16>;
constexpr std::size_t kBlocks = hn::MaxLanes(D16()) / 8;

// kPairs (B <= 7): blocks 2i and 2i + 1 share the window at their first group (one broadcast
// load on AVX2); otherwise (B = 9..15, 2·B > 16) block j has its own, at p + j·B.
template <unsigned B, bool kPairs, class D>
HWY_INLINE hn::Vec<D> load_windows(D d, const std::uint8_t* p) {
  constexpr std::size_t kBytes = hn::MaxLanes(d);
  if constexpr (kBytes <= 16) {
    return hn::LoadU(d, p);
  } else if constexpr (kPairs && kBytes == 32) {
    return hn::LoadDup128(d, p);
  } else {
    const hn::Half<D> dh;
    return hn::Combine(d, load_windows<B, kPairs>(dh, p + kBytes / 32 * B),
                       load_windows<B, kPairs>(dh, p));
  }
}

// The inverse direction: the low 8 bytes of block j (all 16 when kWhole: B = 9..15) go to
// p + j·B, in increasing j, so that each store overwrites the bytes past the previous block's
// group (the caller keeps the last block's inside the output).
template <unsigned B, bool kWhole, class D>
HWY_INLINE void store_windows(D d, hn::Vec<D> v, std::uint8_t* p) {
  constexpr std::size_t kBytes = hn::MaxLanes(d);
  const hn::Half<D> dh;
  if constexpr (kBytes <= 16) {
    if constexpr (kWhole)
      hn::StoreU(v, d, p);
    else
      hn::StoreU(hn::LowerHalf(dh, v), dh, p);
  } else {
    store_windows<B, kWhole>(dh, hn::LowerHalf(dh, v), p);
    store_windows<B, kWhole>(dh, hn::UpperHalf(dh, v), p + kBytes / 32 * B);
  }
}

// Code k of a group starts at bit k·B: its two bytes (floor(k·B / 8) and the next) make u16 lane
// k; multiplying by 2^(16 - r - B), r = k·B % 8, moves the code to the top B bits (the bits above
// it leave the lane) and a shift by 16 - B brings it down. r + B <= 14, so the factor fits.
template <unsigned B>
std::size_t unpack_vectors(const std::uint8_t* in, std::size_t in_size, std::size_t groups,
                           std::uint16_t* codes) {
  const D16 d16;
  const D8 d8;
  HWY_ALIGN std::uint8_t idx[hn::MaxLanes(D8())];
  HWY_ALIGN std::uint16_t mul[hn::MaxLanes(D16())];
  for (std::size_t j = 0; j < kBlocks; ++j)
    for (unsigned k = 0; k < 8; ++k) {
      const unsigned first = static_cast<unsigned>((j % 2) * B + k * B / 8);
      idx[16 * j + 2 * k] = static_cast<std::uint8_t>(first);
      idx[16 * j + 2 * k + 1] = static_cast<std::uint8_t>(first + 1);
      mul[8 * j + k] = static_cast<std::uint16_t>(1u << (16 - k * B % 8 - B));
    }
  const auto table = hn::Load(d8, idx);
  const auto factor = hn::Load(d16, mul);
  std::size_t g = 0;
  // The last window of a vector starts at group g + kBlocks - 1 at the latest.
  for (; g + kBlocks <= groups && (g + kBlocks - 1) * B + 16 <= in_size; g += kBlocks) {
    const auto bytes = load_windows<B, true>(d8, in + g * B);
    const auto pairs = hn::BitCast(d16, hn::TableLookupBytes(bytes, table));
    hn::StoreU(hn::ShiftRight<16 - B>(hn::Mul(pairs, factor)), d16, codes + 8 * g);
  }
  return g;
}

// 8 codes < 2^B of a block into its low B bytes: neighbouring u16 lanes merge into u32 lanes
// (c + c'·2^B, 2·B <= 30 bits), those into u64 lanes (4 codes, 4·B <= 60 bits), and the upper
// u64 lane of the block (codes 4..7) joins the lower one 4·B bits up. For B <= 7 that fits the
// lower lane; for B = 9..15 its top 8·B - 64 bits also form the block's upper lane.
template <unsigned B>
std::size_t pack_vectors(const std::uint16_t* codes, std::size_t groups, std::size_t out_size,
                         std::uint8_t* out) {
  const D16 d16;
  const D8 d8;
  const D64 d64;
  const hn::Repartition<std::uint32_t, D16> d32;
  const auto low16 = hn::Set(d32, 0xFFFFu);
  const auto low32 = hn::Set(d64, 0xFFFFFFFFull);
  constexpr bool kWide = B > 8;
  constexpr std::size_t kWindow = kWide ? 16 : 8;  // the bytes each block stores
  std::size_t g = 0;
  for (; g + kBlocks <= groups && (g + kBlocks - 1) * B + kWindow <= out_size; g += kBlocks) {
    const auto v = hn::BitCast(d32, hn::LoadU(d16, codes + 8 * g));
    const auto pairs = hn::Or(hn::And(v, low16), hn::ShiftLeft<B>(hn::ShiftRight<16>(v)));
    const auto q = hn::BitCast(d64, pairs);
    const auto quads = hn::Or(hn::And(q, low32), hn::ShiftLeft<2 * B>(hn::ShiftRight<32>(q)));
    auto block = hn::Or(quads, hn::Shuffle01(hn::ShiftLeft<4 * B>(quads)));
    if constexpr (kWide) block = hn::OddEven(hn::ShiftRight<64 - 4 * B>(quads), block);
    store_windows<B, kWide>(d8, hn::BitCast(d8, block), out + g * B);
  }
  return g;
}

// B = 1, 2, 4 divide a byte, so a vector of codes packs into whole bytes with no shuffle across
// blocks: the lanes that hold 8 bits of codes narrow to bytes in order (B = 1: the codes are the
// bits of a lane mask). Every vector writes exactly its own bytes.
template <unsigned B>
std::size_t pack_vectors_pow2(const std::uint16_t* codes, std::size_t groups, std::uint8_t* out) {
  const D16 d16;
  const D64 d64;
  const hn::Repartition<std::uint32_t, D16> d32;
  std::size_t g = 0;
  for (; g + kBlocks <= groups; g += kBlocks) {
    const auto v = hn::LoadU(d16, codes + 8 * g);
    if constexpr (B == 1) {
      hn::StoreMaskBits(d16, hn::Ne(v, hn::Zero(d16)), out + g);
    } else {
      const auto w = hn::BitCast(d32, v);
      const auto pairs = hn::Or(hn::And(w, hn::Set(d32, 0xFFFFu)),
                                hn::ShiftLeft<B>(hn::ShiftRight<16>(w)));  // 2·B bits per u32
      if constexpr (B == 4) {
        const hn::Rebind<std::uint8_t, decltype(d32)> d8;
        hn::StoreU(hn::TruncateTo(d8, pairs), d8, out + g * B);
      } else {
        const auto q = hn::BitCast(d64, pairs);
        const auto quads = hn::Or(hn::And(q, hn::Set(d64, 0xFFFFFFFFull)),
                                  hn::ShiftLeft<2 * B>(hn::ShiftRight<32>(q)));  // 8 bits per u64
        const hn::Rebind<std::uint8_t, D64> d8;
        hn::StoreU(hn::TruncateTo(d8, quads), d8, out + g * B);
      }
    }
  }
  return g;
}

// Widths 9..15: a group (8 codes, B bytes) per 128-bit block, each block reading or writing the
// 16-byte window that starts at its own group's first byte (2·B > 16: neighbours no longer
// share one).
// Code c of a group starts at bit c·B, in bytes f = floor(c·B / 8) .. f + 2 (r + B <= 22 bits,
// r = c·B % 8). Two byte shuffles put the 4 bytes from f of the even codes, and of the odd ones,
// in u32 lanes (a byte past the window's end is taken from its last: it lies above the code);
// multiplying by 2^(32 - r - B) moves each code to the top B bits, a shift by 32 - B brings it
// down, and the odd codes, shifted into the high halves, interleave with the even ones in order.
template <unsigned B>
std::size_t unpack_vectors_wide(const std::uint8_t* in, std::size_t in_size, std::size_t groups,
                                std::uint16_t* codes) {
  const D16 d16;
  const D8 d8;
  const hn::Repartition<std::uint32_t, D16> d32;
  HWY_ALIGN std::uint8_t idx[2][hn::MaxLanes(D8())];
  HWY_ALIGN std::uint32_t mul[2][hn::MaxLanes(D8()) / 4];
  for (std::size_t j = 0; j < kBlocks; ++j)
    for (unsigned odd = 0; odd < 2; ++odd)
      for (unsigned i = 0; i < 4; ++i) {
        const unsigned c = 2 * i + odd, f = c * B / 8, r = c * B % 8;
        for (unsigned b = 0; b < 4; ++b)
          idx[odd][16 * j + 4 * i + b] = static_cast<std::uint8_t>(std::min(f + b, 15u));
        mul[odd][4 * j + i] = std::uint32_t(1) << (32 - r - B);
      }
  const auto even_bytes = hn::Load(d8, idx[0]), odd_bytes = hn::Load(d8, idx[1]);
  const auto even_mul = hn::Load(d32, mul[0]), odd_mul = hn::Load(d32, mul[1]);
  std::size_t g = 0;
  for (; g + kBlocks <= groups && (g + kBlocks - 1) * B + 16 <= in_size; g += kBlocks) {
    const auto bytes = load_windows<B, false>(d8, in + g * B);
    const auto even = hn::ShiftRight<32 - B>(
        hn::Mul(hn::BitCast(d32, hn::TableLookupBytes(bytes, even_bytes)), even_mul));
    const auto odd = hn::ShiftRight<32 - B>(
        hn::Mul(hn::BitCast(d32, hn::TableLookupBytes(bytes, odd_bytes)), odd_mul));
    hn::StoreU(hn::BitCast(d16, hn::Or(even, hn::ShiftLeft<16>(odd))), d16, codes + 8 * g);
  }
  return g;
}

template <unsigned B>
void pack_wide_vectors(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  const std::size_t g =
      pack_vectors<B>(codes, n / 8, (n * B + 7) / 8, reinterpret_cast<std::uint8_t*>(out));
  pack_wide<B>(codes + 8 * g, n - 8 * g, out + g * B);
}

template <unsigned B>
bool unpack_wide_vectors(const std::byte* in, std::size_t in_size, std::size_t n,
                         std::uint16_t* codes) {
  const std::size_t g =
      unpack_vectors_wide<B>(reinterpret_cast<const std::uint8_t*>(in), in_size, n / 8, codes);
  return unpack_wide<B>(in + g * B, n - 8 * g, codes + 8 * g);
}

template <unsigned B>
void pack_small(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  auto* o = reinterpret_cast<std::uint8_t*>(out);
  std::size_t g;
  if constexpr (B == 1 || B == 2 || B == 4) {
    g = pack_vectors_pow2<B>(codes, n / 8, o);
  } else {
    g = pack_vectors<B>(codes, n / 8, (n * B + 7) / 8, o);
  }
  pack_small_from<B>(codes, n, out, g);
}

template <unsigned B>
bool unpack_small(const std::byte* in, std::size_t in_size, std::size_t n, std::uint16_t* codes) {
  const std::size_t g =
      unpack_vectors<B>(reinterpret_cast<const std::uint8_t*>(in), in_size, n / 8, codes);
  return unpack_small_from<B>(in, in_size, n, codes, g);
}

void pack_bytes(const std::uint16_t* codes, std::size_t n, std::byte* out) {
  const D16 d16;
  const hn::Rebind<std::uint8_t, D16> d8;
  const hn::Rebind<std::int16_t, D16> di16;
  const std::size_t lanes = hn::Lanes(d16);
  auto* o = reinterpret_cast<std::uint8_t*>(out);
  std::size_t i = 0;
  // Codes are below 256, so the saturating narrowing is a plain truncation.
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::DemoteTo(d8, hn::BitCast(di16, hn::LoadU(d16, codes + i))), d8, o + i);
  pack_bytes_scalar(codes + i, n - i, out + i);
}

void unpack_bytes(const std::byte* in, std::size_t n, std::uint16_t* codes) {
  const D16 d16;
  const hn::Rebind<std::uint8_t, D16> d8;
  const std::size_t lanes = hn::Lanes(d16);
  const auto* p = reinterpret_cast<const std::uint8_t*>(in);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::PromoteTo(d16, hn::LoadU(d8, p + i)), d16, codes + i);
  unpack_bytes_scalar(in + i, n - i, codes + i);
}

}  // namespace

std::uint16_t MaxCode(const std::uint16_t* codes, std::size_t n) {
  const D16 d16;
  const std::size_t lanes = hn::Lanes(d16);
  auto m0 = hn::Zero(d16), m1 = m0, m2 = m0, m3 = m0;
  std::size_t i = 0;
  for (; i + 4 * lanes <= n; i += 4 * lanes) {
    m0 = hn::Max(m0, hn::LoadU(d16, codes + i));
    m1 = hn::Max(m1, hn::LoadU(d16, codes + i + lanes));
    m2 = hn::Max(m2, hn::LoadU(d16, codes + i + 2 * lanes));
    m3 = hn::Max(m3, hn::LoadU(d16, codes + i + 3 * lanes));
  }
  for (; i + lanes <= n; i += lanes) m0 = hn::Max(m0, hn::LoadU(d16, codes + i));
  const auto m = hn::Max(hn::Max(m0, m1), hn::Max(m2, m3));
  return std::max(hn::GetLane(hn::MaxOfLanes(d16, m)), max_code_scalar(codes + i, n - i));
}

void PackFixed(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out) {
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
    case 9:
      return pack_wide_vectors<9>(codes, n, out);
    case 10:
      return pack_wide_vectors<10>(codes, n, out);
    case 11:
      return pack_wide_vectors<11>(codes, n, out);
    case 12:
      return pack_wide_vectors<12>(codes, n, out);
    case 13:
      return pack_wide_vectors<13>(codes, n, out);
    case 14:
      return pack_wide_vectors<14>(codes, n, out);
    case 15:
      return pack_wide_vectors<15>(codes, n, out);
    default:
      return pack_fixed_scalar(codes, n, bits, out);
  }
}

bool UnpackFixed(const std::byte* in, std::size_t in_size, unsigned bits, std::size_t n,
                 std::uint16_t* codes) {
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
    case 9:
      return unpack_wide_vectors<9>(in, in_size, n, codes);
    case 10:
      return unpack_wide_vectors<10>(in, in_size, n, codes);
    case 11:
      return unpack_wide_vectors<11>(in, in_size, n, codes);
    case 12:
      return unpack_wide_vectors<12>(in, in_size, n, codes);
    case 13:
      return unpack_wide_vectors<13>(in, in_size, n, codes);
    case 14:
      return unpack_wide_vectors<14>(in, in_size, n, codes);
    case 15:
      return unpack_wide_vectors<15>(in, in_size, n, codes);
    default:
      return unpack_fixed_scalar(in, in_size, bits, n, codes);
  }
}
#endif  // HWY_TARGET == HWY_SCALAR || HWY_HAVE_SCALABLE

}  // namespace dme::detail::codec::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail::codec {

HWY_EXPORT(PackFixed);
HWY_EXPORT(UnpackFixed);
HWY_EXPORT(MaxCode);

std::uint16_t max_code(const std::uint16_t* codes, std::size_t n) {
  simd_init();
  return HWY_DYNAMIC_DISPATCH(MaxCode)(codes, n);
}

void pack_fixed(const std::uint16_t* codes, std::size_t n, unsigned bits, std::byte* out) {
  if (n == 0) return;  // empty spans may hold null pointers, which memcpy must not see
  DME_ASSERT(bits >= 1 && bits <= 16 && "unsupported code width");
  simd_init();
  HWY_DYNAMIC_DISPATCH(PackFixed)(codes, n, bits, out);
}

bool unpack_fixed(const std::byte* in, std::size_t in_size, unsigned bits, std::size_t n,
                  std::uint16_t* codes) {
  if (n == 0) return true;
  DME_ASSERT(bits >= 1 && bits <= 16 && "unsupported code width");
  simd_init();
  return HWY_DYNAMIC_DISPATCH(UnpackFixed)(in, in_size, bits, n, codes);
}

}  // namespace dme::detail::codec
#endif  // HWY_ONCE
