// Philox4x32-10 on 16 blocks per AVX-512 register, bit-identical to PhiloxStream::block().
// Only included where DME_HAVE_AVX512 is 1.
#pragma once

#include "dme/core/detail/philox_words.h"
#include "dme/core/detail/simd.h"

#if DME_HAVE_AVX512

#include <cstdint>

namespace dme::detail {

class Philox16 {
 public:
  explicit Philox16(const PhiloxWords& w)
      : tag_(w.tag),
        round_(_mm512_set1_epi32(static_cast<int>(w.round))),
        rank_(_mm512_set1_epi32(static_cast<int>(w.rank))) {
    std::uint32_t k0 = w.key0, k1 = w.key1;
    for (int r = 0; r < kRounds; ++r) {
      key0_[r] = _mm512_set1_epi32(static_cast<int>(k0));
      key1_[r] = _mm512_set1_epi32(static_cast<int>(k1));
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
  }

  /// Words of blocks b0 .. b0+15: out[w] lane l = word w of block b0 + l.
  void blocks(std::uint64_t b0, __m512i out[4]) const {
    Half a, b;
    rounds(b0, a, b);
    // The low doublewords of the two halves' 64-bit lanes, in block order.
    const __m512i low =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int w = 0; w < 4; ++w) out[w] = _mm512_permutex2var_epi32(a.c[w], low, b.c[w]);
  }

  /// The 64 words of blocks b0 .. b0+15 as 32 little-endian 64-bit words, in stream order:
  /// out[q] lane t = word 2·(t % 2) | (word 2·(t % 2) + 1) << 32 of block b0 + 4q + t / 2.
  void words64(std::uint64_t b0, __m512i out[4]) const {
    Half h[2];
    rounds(b0, h[0], h[1]);
    const __m512i q_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i q_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    for (int g = 0; g < 2; ++g) {
      // 64-bit lane l of w01 = words (0, 1) of block 8g + l; of w23 = words (2, 3).
      const __m512i w01 = _mm512_mask_shuffle_epi32(h[g].c[0], 0xAAAA, h[g].c[1], _MM_PERM_CCAA);
      const __m512i w23 = _mm512_mask_shuffle_epi32(h[g].c[2], 0xAAAA, h[g].c[3], _MM_PERM_CCAA);
      out[2 * g] = _mm512_permutex2var_epi64(w01, q_lo, w23);
      out[2 * g + 1] = _mm512_permutex2var_epi64(w01, q_hi, w23);
    }
  }

  /// 64 consecutive draws (4 per block, blocks b0 .. b0+15) as uniform floats in stream order:
  /// u[q] lane t = draw 16q + t, i.e. word t % 4 of block b0 + 4q + t / 4.
  void uniforms64(std::uint64_t b0, __m512 u[4]) const {
    __m512i e[4];
    words64(b0, e);
    const __m512 scale = _mm512_set1_ps(0x1p-24f);
    for (int q = 0; q < 4; ++q)
      u[q] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(e[q], 8)), scale);
  }

 private:
  static constexpr int kRounds = 10;

  // Eight blocks, one per 64-bit lane: word w of the block is the low doubleword of c[w] (the
  // high doublewords hold don't-care bits). In this layout a 32x32 -> 64-bit multiply yields
  // lo and hi of a lane at once: lo is the product itself (its high half is ignored), hi is one
  // shuffle away. A round of 16 blocks is then 4 multiplies, 4 shuffles and 4 three-way xors,
  // split evenly between the two 512-bit ports (the packed 32-bit layout needed 16 operations).
  struct Half {
    __m512i c[4];
  };

  static inline void round(__m512i& c0, __m512i& c1, __m512i& c2, __m512i& c3, __m512i m0,
                           __m512i m1, __m512i k0, __m512i k1) {
    const __m512i p0 = _mm512_mul_epu32(c0, m0);
    const __m512i p2 = _mm512_mul_epu32(c2, m1);
    c0 = _mm512_ternarylogic_epi32(_mm512_shuffle_epi32(p2, _MM_PERM_DDBB), c1, k0, 0x96);
    c2 = _mm512_ternarylogic_epi32(_mm512_shuffle_epi32(p0, _MM_PERM_DDBB), c3, k1, 0x96);
    c1 = p2;
    c3 = p0;
  }

  void rounds(std::uint64_t b0, Half& a, Half& b) const {
    const __m512i base = _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(b0)));
    const std::uint32_t hi = static_cast<std::uint32_t>(b0 >> 32);
    const __m512i tag = _mm512_set1_epi32(static_cast<int>(tag_ | (hi & 0xFFFFFFu)));
    const __m512i tag_carry = _mm512_set1_epi32(static_cast<int>(tag_ | ((hi + 1) & 0xFFFFFFu)));
    const auto start = [&](int g) {  // blocks b0 + 8g .. b0 + 8g + 7
      const int o = 8 * g;
      const __m512i lane = _mm512_setr_epi32(o, 0, o + 1, 0, o + 2, 0, o + 3, 0, o + 4, 0, o + 5, 0,
                                             o + 6, 0, o + 7, 0);
      const __m512i c0 = _mm512_add_epi32(base, lane);
      // Lanes whose low word wrapped carry into the high bits of the block index.
      const __mmask16 carry = _mm512_cmplt_epu32_mask(c0, base);
      return Half{{c0, _mm512_mask_blend_epi32(carry, tag, tag_carry), round_, rank_}};
    };
    a = start(0);
    b = start(1);
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
    // The rounds on plain locals, which stay in registers.
    __m512i a0 = a.c[0], a1 = a.c[1], a2 = a.c[2], a3 = a.c[3];
    __m512i b0_ = b.c[0], b1 = b.c[1], b2 = b.c[2], b3 = b.c[3];
    for (int r = 0; r < kRounds; ++r) {
      round(a0, a1, a2, a3, m0, m1, key0_[r], key1_[r]);
      round(b0_, b1, b2, b3, m0, m1, key0_[r], key1_[r]);
    }
    a = Half{{a0, a1, a2, a3}};
    b = Half{{b0_, b1, b2, b3}};
  }

  std::uint32_t tag_;
  __m512i round_, rank_;
  __m512i key0_[kRounds], key1_[kRounds];
};

}  // namespace dme::detail

#endif  // DME_HAVE_AVX512
