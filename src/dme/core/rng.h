// Counter-based random streams (Philox4x32-10 from Random123).
//
// A stream is keyed by (seed, round, rank, purpose). Draw i is a pure function of the key and i:
// there is no state to advance, so any thread, SIMD lane or GPU block produces exactly the draws
// of its own coordinates, and every rank that shares (seed, round) sees the same rotation signs.
//
// Layout of one Philox call (128 random bits, "block" b):
//   key     = {seed low 32 bits, seed high 32 bits}
//   counter = {b low 32 bits, (purpose << 24) | (b >> 32), round, rank}
// so blocks up to 2^56, rounds up to 2^32 and 256 purposes are distinct. The same layout is
// used by the CUDA backend, which includes this header from device code.
#pragma once

#include <Random123/philox.h>

#include <cstdint>

#if defined(__CUDACC__)
#define DME_HOST_DEVICE __host__ __device__
#else
#define DME_HOST_DEVICE
#endif

namespace dme {

/// What a stream is used for; different purposes never share draws.
enum class Purpose : std::uint32_t {
  kRotationSigns = 1,  ///< Rademacher signs of the RHTs (rank word 4·stream + j: rht.h)
  kRounding = 2,       ///< stochastic rounding draws, one per coordinate
  kRequantize = 3,     ///< the second rounding of reduce-scatter chunk owners
  kInput = 4,          ///< synthetic inputs of the experiments
  kDownlink = 5,       ///< gather-bcast's root requantizing the mean (compressed downlink)
  kCorrelated = 6,     ///< reduce-scatter-int's shared shift of correlated rounding (rank 0)
  kSharedDraw = 7,     ///< quic-fl: the draw h of each coordinate that the receiver regenerates
  kSharedDrawRequantize = 8,  ///< ... of a reduce-scatter owner's second rounding
  kSharedDrawDownlink = 9,    ///< ... of gather-bcast's compressed downlink
};

class PhiloxStream {
 public:
  using Block = r123::Philox4x32::ctr_type;

  DME_HOST_DEVICE PhiloxStream(std::uint64_t seed, std::uint32_t round, std::uint32_t rank,
                               Purpose purpose)
      : key_{{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)}},
        round_(round),
        rank_(rank),
        purpose_(static_cast<std::uint32_t>(purpose)) {}

  /// The words of the key layout above, for kernels that run Philox themselves (SIMD, CUDA).
  DME_HOST_DEVICE std::uint32_t key_word(int i) const { return key_.v[i]; }
  DME_HOST_DEVICE std::uint32_t round() const { return round_; }
  DME_HOST_DEVICE std::uint32_t rank() const { return rank_; }
  DME_HOST_DEVICE std::uint32_t purpose_tag() const { return purpose_ << 24; }
  DME_HOST_DEVICE Purpose purpose() const { return static_cast<Purpose>(purpose_); }

  /// The 128 bits of block b.
  DME_HOST_DEVICE Block block(std::uint64_t b) const {
    Block ctr = {{static_cast<std::uint32_t>(b),
                  (purpose_ << 24) | static_cast<std::uint32_t>((b >> 32) & 0xFFFFFFu), round_,
                  rank_}};
    return r123::Philox4x32()(ctr, key_);
  }

  /// Raw 32 bits of draw i: word i % 4 of block i / 4.
  DME_HOST_DEVICE std::uint32_t bits32(std::uint64_t i) const { return block(i >> 2).v[i & 3]; }

  /// Uniform float in [0, 1) with 24 random bits: (bits32(i) >> 8) * 2^-24.
  DME_HOST_DEVICE float uniform_float(std::uint64_t i) const {
    return static_cast<float>(bits32(i) >> 8) * 0x1p-24f;
  }

  /// Uniform double in [0, 1) with 53 random bits, from words 2(i%2), 2(i%2)+1 of block i / 2.
  DME_HOST_DEVICE double uniform_double(std::uint64_t i) const {
    Block r = block(i >> 1);
    unsigned w = static_cast<unsigned>(i & 1) * 2;
    std::uint64_t bits = (std::uint64_t(r.v[w]) << 21) ^ (std::uint64_t(r.v[w + 1]) >> 11);
    return static_cast<double>(bits & ((std::uint64_t(1) << 53) - 1)) * 0x1p-53;
  }

  /// Rademacher sign of coordinate i (+1 or -1): bit i % 32 of word (i / 32) % 4 of block i / 128.
  DME_HOST_DEVICE float sign(std::uint64_t i) const { return sign_bit(i) ? -1.0f : 1.0f; }
  DME_HOST_DEVICE bool sign_bit(std::uint64_t i) const {
    return (block(i >> 7).v[(i >> 5) & 3] >> (i & 31)) & 1u;
  }

 private:
  r123::Philox4x32::key_type key_;
  std::uint32_t round_;
  std::uint32_t rank_;
  std::uint32_t purpose_;
};

}  // namespace dme
