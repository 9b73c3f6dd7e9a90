// The kernels' Philox reproduces PhiloxStream exactly.
#include <gtest/gtest.h>

#include <cstdint>

#include "dme/core/rng.h"
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/core/detail/philox_words.h"

namespace {

using dme::PhiloxStream;
using dme::Purpose;

const PhiloxStream kStreams[] = {PhiloxStream(0, 0, 0, Purpose::kRounding),
                                 PhiloxStream(0x1234567890abcdefULL, 7, 3, Purpose::kRounding),
                                 PhiloxStream(~0ULL, ~0u, 12345, Purpose::kRequantize)};
// Block indices including ones whose 16 lanes cross a 2^32 boundary (carry into the high word).
const std::uint64_t kFirstBlocks[] = {0,
                                      1,
                                      12345,
                                      (std::uint64_t(1) << 32) - 7,
                                      (std::uint64_t(5) << 32) - 1,
                                      std::uint64_t(1) << 40};

TEST(PhiloxSimd, PortableBlocksMatchStream) {
  for (const PhiloxStream& s : kStreams) {
    const dme::detail::PhiloxWords w = dme::detail::philox_words(s);
    for (std::uint64_t b0 : kFirstBlocks) {
      std::uint32_t out[4][16];
      dme::detail::philox_blocks16(w, b0, out);
      for (int l = 0; l < 16; ++l) {
        const PhiloxStream::Block expect = s.block(b0 + static_cast<std::uint64_t>(l));
        for (int word = 0; word < 4; ++word)
          ASSERT_EQ(out[word][l], expect.v[word]) << b0 << " " << l;
      }
    }
  }
}

// philox_words64 and philox_uniforms on every SIMD target, at block counts that end inside a
// vector call and at first blocks whose lanes carry into the high counter word.
TEST(PhiloxSimd, EveryTargetMatchesStream) {
  dme::test::for_each_simd_target([](const std::string&) {
    for (const PhiloxStream& s : kStreams) {
      const dme::detail::PhiloxWords w = dme::detail::philox_words(s);
      for (std::uint64_t b0 : kFirstBlocks) {
        for (std::size_t blocks : {1u, 3u, 4u, 15u, 16u, 17u, 40u}) {
          std::vector<std::uint64_t> words(2 * blocks + 1, 0xAAAAu);
          dme::detail::philox_words64(w, b0, blocks, words.data());
          for (std::size_t l = 0; l < blocks; ++l) {
            const PhiloxStream::Block e = s.block(b0 + l);
            ASSERT_EQ(words[2 * l], std::uint64_t(e.v[0]) | std::uint64_t(e.v[1]) << 32) << l;
            ASSERT_EQ(words[2 * l + 1], std::uint64_t(e.v[2]) | std::uint64_t(e.v[3]) << 32);
          }
          ASSERT_EQ(words[2 * blocks], 0xAAAAu) << "wrote past the end";
          std::vector<float> u(4 * blocks + 1, -1.0f);
          dme::detail::philox_uniforms(w, b0, blocks, u.data());
          for (std::size_t i = 0; i < 4 * blocks; ++i)
            ASSERT_EQ(u[i], s.uniform_float(4 * b0 + i)) << i;
          ASSERT_EQ(u[4 * blocks], -1.0f) << "wrote past the end";
        }
      }
    }
  });
}

// philox_bits32 and philox_bytes (the draws of quic-fl) against the stream's bits32, from first
// draws that are not block-aligned, in runs longer than their internal buffers, and near the top
// of the counter space (quic-fl's split draws start at 2^57).
TEST(PhiloxSimd, Bits32AndBytesMatchStream) {
  dme::test::for_each_simd_target([](const std::string&) {
    const PhiloxStream& s = kStreams[0];
    const dme::detail::PhiloxWords w = dme::detail::philox_words(s);
    for (std::uint64_t first : {std::uint64_t(0), std::uint64_t(3), (std::uint64_t(1) << 57) + 5}) {
      for (std::size_t n : {1u, 2u, 7u, 1025u, 3001u}) {
        std::vector<std::uint32_t> bits(n + 1, 0xAAAAu);
        dme::detail::philox_bits32(w, first, n, bits.data());
        for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(bits[i], s.bits32(first + i)) << i;
        ASSERT_EQ(bits[n], 0xAAAAu) << "wrote past the end";
        std::vector<std::uint8_t> bytes(n + 1, 0xAA);
        dme::detail::philox_bytes(w, first, n, bytes.data());
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t b = first + i;
          ASSERT_EQ(bytes[i], static_cast<std::uint8_t>(s.bits32(b / 4) >> (8 * (b % 4)))) << i;
        }
        ASSERT_EQ(bytes[n], 0xAA) << "wrote past the end";
      }
    }
  });
}

}  // namespace
