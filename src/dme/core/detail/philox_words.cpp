#include "dme/core/detail/philox_words.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace dme::detail {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr int kLanes = 16;

}  // namespace

PhiloxWords philox_words(const PhiloxStream& stream) {
  return PhiloxWords{stream.key_word(0), stream.key_word(1), stream.purpose_tag(), stream.round(),
                     stream.rank()};
}

void philox_blocks16(const PhiloxWords& words, std::uint64_t first_block,
                     std::uint32_t out[4][16]) {
  std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
  for (int l = 0; l < kLanes; ++l) {
    const std::uint64_t b = first_block + static_cast<std::uint64_t>(l);
    c0[l] = static_cast<std::uint32_t>(b);
    c1[l] = words.tag | static_cast<std::uint32_t>((b >> 32) & 0xFFFFFFu);
    c2[l] = words.round;
    c3[l] = words.rank;
  }
  std::uint32_t k0 = words.key0, k1 = words.key1;
  for (int r = 0; r < kRounds; ++r) {
    for (int l = 0; l < kLanes; ++l) {
      const std::uint64_t p0 = std::uint64_t(kMul0) * c0[l];
      const std::uint64_t p1 = std::uint64_t(kMul1) * c2[l];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[l] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[l] ^ k1;
      c1[l] = static_cast<std::uint32_t>(p1);
      c3[l] = static_cast<std::uint32_t>(p0);
      c0[l] = n0;
      c2[l] = n2;
    }
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  for (int l = 0; l < kLanes; ++l) {
    out[0][l] = c0[l];
    out[1][l] = c1[l];
    out[2][l] = c2[l];
    out[3][l] = c3[l];
  }
}

namespace {

// Units (T: 4 or 1 bytes) first .. first + n - 1 of the stream's bytes in block order: block b's
// 16 bytes are its words 0..3, each little-endian, so unit g is bytes sizeof(T)·g .. of them.
template <class T>
void philox_units(const PhiloxWords& key, std::uint64_t first, std::size_t n, T* out) {
  constexpr std::size_t kBlocks = 256, kPerBlock = 16 / sizeof(T);
  std::uint64_t words[2 * kBlocks];
  for (std::uint64_t g = first, end = first + n; g < end;) {
    const std::uint64_t block = g / kPerBlock;
    const auto blocks = static_cast<std::size_t>(
        std::min<std::uint64_t>(kBlocks, (end + kPerBlock - 1) / kPerBlock - block));
    philox_words64(key, block, blocks, words);
    const std::uint64_t stop = std::min<std::uint64_t>(end, kPerBlock * (block + blocks));
    if constexpr (std::endian::native == std::endian::little) {  // memory order is unit order
      std::memcpy(out + (g - first),
                  reinterpret_cast<const unsigned char*>(words) +
                      sizeof(T) * (g - kPerBlock * block),
                  sizeof(T) * (stop - g));
      g = stop;
    }
    for (; g < stop; ++g) {
      const std::uint64_t byte = sizeof(T) * (g - kPerBlock * block);
      out[g - first] = static_cast<T>(words[byte / 8] >> (8 * (byte % 8)));
    }
  }
}

}  // namespace

void philox_bits32(const PhiloxWords& key, std::uint64_t first, std::size_t n,
                   std::uint32_t* out) {
  philox_units(key, first, n, out);
}

void philox_bytes(const PhiloxWords& key, std::uint64_t first, std::size_t n, std::uint8_t* out) {
  philox_units(key, first, n, out);
}

}  // namespace dme::detail
