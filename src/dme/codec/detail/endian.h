// Little-endian loads and stores of fixed-size integers: the wire format is little-endian on
// every host, so these are the only way codec code touches multi-byte fields.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace dme::detail::codec {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "mixed-endian hosts are not supported");

template <class T>
constexpr T byteswap(T v) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (sizeof(T) == 1) {
    return v;
  } else {
    T r = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      r = static_cast<T>((r << 8) | ((v >> (8 * i)) & 0xFF));
    return r;
  }
}

/// Reads a T stored little-endian at p (any alignment).
template <class T>
inline T load_le(const std::byte* p) noexcept {
  static_assert(std::is_unsigned_v<T>);
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
  return v;
}

/// Writes v little-endian at p (any alignment).
template <class T>
inline void store_le(std::byte* p, T v) noexcept {
  static_assert(std::is_unsigned_v<T>);
  if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
  std::memcpy(p, &v, sizeof v);
}

/// Reads the first n <= 8 bytes at p as the low bytes of a little-endian 64-bit value.
inline std::uint64_t load_le_partial(const std::byte* p, std::size_t n) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t(std::to_integer<std::uint8_t>(p[i])) << (8 * i);
  return v;
}

/// Writes the low n <= 8 bytes of v little-endian at p.
inline void store_le_partial(std::byte* p, std::uint64_t v, std::size_t n) noexcept {
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace dme::detail::codec
