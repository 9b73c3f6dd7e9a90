// The kernels' Philox reproduces PhiloxStream exactly.
#include <gtest/gtest.h>

#include <cstdint>

#include "dme/core/rng.h"
#include "dme/core/detail/philox_avx512.h"
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

#if DME_HAVE_AVX512
TEST(PhiloxSimd, Avx512BlocksAndUniformsMatchStream) {
  for (const PhiloxStream& s : kStreams) {
    const dme::detail::Philox16 philox(dme::detail::philox_words(s));
    for (std::uint64_t b0 : kFirstBlocks) {
      __m512i w[4];
      philox.blocks(b0, w);
      alignas(64) std::uint32_t words[4][16];
      for (int word = 0; word < 4; ++word)
        _mm512_store_si512(reinterpret_cast<__m512i*>(words[word]), w[word]);
      for (int l = 0; l < 16; ++l) {
        const PhiloxStream::Block expect = s.block(b0 + static_cast<std::uint64_t>(l));
        for (int word = 0; word < 4; ++word) ASSERT_EQ(words[word][l], expect.v[word]);
      }
      __m512 u[4];
      philox.uniforms64(b0, u);
      alignas(64) float draws[64];
      for (int q = 0; q < 4; ++q) _mm512_store_ps(draws + 16 * q, u[q]);
      for (int i = 0; i < 64; ++i)
        ASSERT_EQ(draws[i], s.uniform_float(4 * b0 + static_cast<std::uint64_t>(i))) << i;
    }
  }
}
#else
TEST(PhiloxSimd, Avx512BlocksAndUniformsMatchStream) {
  GTEST_SKIP() << "built without AVX-512";
}
#endif

}  // namespace
