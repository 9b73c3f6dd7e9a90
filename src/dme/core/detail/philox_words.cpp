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

}  // namespace dme::detail

namespace dme::detail {

void philox_bits32(const PhiloxWords& key, std::uint64_t first, std::size_t n,
                   std::uint32_t* out) {
  constexpr std::size_t kBlocks = 256;
  std::uint64_t words[2 * kBlocks];
  for (std::uint64_t g = first, end = first + n; g < end;) {
    const std::uint64_t block = g >> 2;
    const auto blocks =
        static_cast<std::size_t>(std::min<std::uint64_t>(kBlocks, ((end + 3) >> 2) - block));
    philox_words64(key, block, blocks, words);
    const std::uint64_t stop = std::min<std::uint64_t>(end, 4 * (block + blocks));
    if constexpr (std::endian::native == std::endian::little) {  // words64 is bits32 in order
      std::memcpy(out + (g - first), reinterpret_cast<const unsigned char*>(words) +
                                         4 * (g - 4 * block), 4 * (stop - g));
      g = stop;
    }
    for (; g < stop; ++g) {
      const std::uint64_t d = g - 4 * block;  // word d % 2 of 64-bit word d / 2
      out[g - first] = static_cast<std::uint32_t>(words[d >> 1] >> (32 * (d & 1)));
    }
  }
}

}  // namespace dme::detail

namespace dme::detail {

void philox_bytes(const PhiloxWords& key, std::uint64_t first, std::size_t n, std::uint8_t* out) {
  constexpr std::size_t kWords = 512;
  std::uint32_t words[kWords];
  for (std::uint64_t b = first, end = first + n; b < end;) {
    const std::uint64_t word = b >> 2;
    const auto count =
        static_cast<std::size_t>(std::min<std::uint64_t>(kWords, ((end + 3) >> 2) - word));
    philox_bits32(key, word, count, words);
    const std::uint64_t stop = std::min<std::uint64_t>(end, 4 * (word + count));
    if constexpr (std::endian::native == std::endian::little) {  // byte k of a word is its k-th
      std::memcpy(out + (b - first), reinterpret_cast<const unsigned char*>(words) + (b - 4 * word),
                  stop - b);
      b = stop;
    }
    for (; b < stop; ++b) {
      const std::uint64_t k = b - 4 * word;
      out[b - first] = static_cast<std::uint8_t>(words[k >> 2] >> (8 * (k & 3)));
    }
  }
}

}  // namespace dme::detail
