#include "dme/quantization/detail/philox_words.h"

#include <cstring>
#include <type_traits>

#include "dme/core/error.h"

namespace dme::detail {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
constexpr int kRounds = 10;
constexpr int kLanes = 16;

// The object representation of PhiloxStream: the Random123 key array, then round, rank, purpose.
struct StreamImage {
  std::uint32_t key[2];
  std::uint32_t round, rank, purpose;
};
static_assert(std::is_trivially_copyable_v<PhiloxStream>);
static_assert(sizeof(PhiloxStream) == sizeof(StreamImage),
              "core/rng.h changed PhiloxStream's members; update philox_words()");

}  // namespace

PhiloxWords philox_words(const PhiloxStream& stream) {
  StreamImage image;
  std::memcpy(&image, &stream, sizeof image);
  const PhiloxWords words{image.key[0], image.key[1], image.purpose << 24, image.round, image.rank};
  // Two blocks whose counters differ in both halves of the block index.
  for (std::uint64_t b : {std::uint64_t(0), (std::uint64_t(1) << 32) + 5}) {
    std::uint32_t out[4][16];
    philox_blocks16(words, b, out);
    const PhiloxStream::Block expect = stream.block(b);
    for (int w = 0; w < 4; ++w) DME_ASSERT(out[w][0] == expect.v[w]);
  }
  return words;
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
