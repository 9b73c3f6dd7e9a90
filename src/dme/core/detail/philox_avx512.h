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
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i base = _mm512_set1_epi32(static_cast<int>(static_cast<std::uint32_t>(b0)));
    __m512i c0 = _mm512_add_epi32(base, lane);
    // Lanes whose low word wrapped carry into the high bits of the block index.
    const __mmask16 carry = _mm512_cmplt_epu32_mask(c0, base);
    const std::uint32_t hi = static_cast<std::uint32_t>(b0 >> 32);
    __m512i c1 =
        _mm512_mask_blend_epi32(carry, _mm512_set1_epi32(static_cast<int>(tag_ | (hi & 0xFFFFFFu))),
                                _mm512_set1_epi32(static_cast<int>(tag_ | ((hi + 1) & 0xFFFFFFu))));
    __m512i c2 = round_, c3 = rank_;
    const __m512i m0 = _mm512_set1_epi64(0xD2511F53), m1 = _mm512_set1_epi64(0xCD9E8D57);
    for (int r = 0; r < kRounds; ++r) {
      __m512i lo0, hi0, lo1, hi1;
      mulhilo(c0, m0, lo0, hi0);
      mulhilo(c2, m1, lo1, hi1);
      c0 = _mm512_ternarylogic_epi32(hi1, c1, key0_[r], 0x96);  // three-way xor
      c2 = _mm512_ternarylogic_epi32(hi0, c3, key1_[r], 0x96);
      c1 = lo1;
      c3 = lo0;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
  }

  /// 64 consecutive draws (4 per block, blocks b0 .. b0+15) as uniform floats in stream order:
  /// u[q] lane t = draw 16q + t, i.e. word t % 4 of block b0 + 4q + t / 4.
  void uniforms64(std::uint64_t b0, __m512 u[4]) const {
    __m512i w[4];
    blocks(b0, w);
    const __m512i lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i a0 = _mm512_permutex2var_epi32(w[0], lo, w[1]);  // (w0,w1) of blocks 0..7
    const __m512i a1 = _mm512_permutex2var_epi32(w[0], hi, w[1]);  // blocks 8..15
    const __m512i c0 = _mm512_permutex2var_epi32(w[2], lo, w[3]);
    const __m512i c1 = _mm512_permutex2var_epi32(w[2], hi, w[3]);
    const __m512i q_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i q_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    const __m512i e[4] = {
        _mm512_permutex2var_epi64(a0, q_lo, c0), _mm512_permutex2var_epi64(a0, q_hi, c0),
        _mm512_permutex2var_epi64(a1, q_lo, c1), _mm512_permutex2var_epi64(a1, q_hi, c1)};
    const __m512 scale = _mm512_set1_ps(0x1p-24f);
    for (int q = 0; q < 4; ++q)
      u[q] = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(e[q], 8)), scale);
  }

 private:
  static constexpr int kRounds = 10;

  // 32x32 -> 64-bit products of all 16 lanes: even lanes directly, odd lanes moved down. The
  // lane moves are in-lane shuffles (port 5) rather than shifts, which would compete with the
  // multiplies for port 0.
  static void mulhilo(__m512i a, __m512i m, __m512i& lo, __m512i& hi) {
    const __m512i even = _mm512_mul_epu32(a, m);
    const __m512i odd = _mm512_mul_epu32(_mm512_shuffle_epi32(a, _MM_PERM_DDBB), m);
    lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_shuffle_epi32(odd, _MM_PERM_CCAA));
    hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_shuffle_epi32(even, _MM_PERM_DDBB), odd);
  }

  std::uint32_t tag_;
  __m512i round_, rank_;
  __m512i key0_[kRounds], key1_[kRounds];
};

}  // namespace dme::detail

#endif  // DME_HAVE_AVX512
