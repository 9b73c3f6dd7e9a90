// Fast Walsh–Hadamard transforms on the device, chained with sign flips and scalings: the engine
// behind dme::cuda::fwht and dme::cuda::CudaRotation. Host-side launchers; kernels in hadamard.cu.
//
// A transform of length n = 2^L is split into passes over memory, each a kernel that transforms
// a set of index bits inside tiles held on chip:
//   L <= 12        one block does everything in shared memory (the "small" kernel);
//   L >= 13        the "local" pass: bits [0, 13) of contiguous tiles of 2^13 floats, butterflies
//                  in registers, warp shuffles and, after one transpose in shared memory,
//                  registers again;
//                  then "global" passes of up to 10 bits each: tiles of 2^bits rows at the pass's
//                  stride by 2^(14 - bits) >= 16 contiguous columns, in shared memory.
// The passes follow the CPU's split of a transform into rows (bits [0, 16): the local pass and
// one global pass of bits [13, 16)) and columns (bits [16, L): one global pass up to 2^26, two
// up to 2^31), and every pass runs its levels in increasing bit order, so the device's levels are
// the CPU's, one for one, and its results the same bits (rotation/fwht.h). Like the CPU's chain,
// a chain of several transforms runs its odd ones (from 0) columns first: the columns pass of
// one transform and of the next are then one kernel with the sign flip in between (2 RHTs at
// 2^17..2^26: 5 launches).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "dme/core/rng.h"

namespace dme::cuda::detail {

/// Most transforms in one chain (the rotations' kMaxRotations).
inline constexpr int kMaxChain = 3;

/// y <- slot_k(H(… slot_1(H(slot_0(y))) …)) for k = transforms, H the unnormalised transform,
/// slot_j(v)_i = scale[j] · v_i, negated where bit i of sign[j] is set (sign[j] null: no flips).
/// Sign masks are device arrays of 32-bit words, bit i % 32 of word i / 32, as PhiloxStream::
/// sign_bit lays them out (see make_sign_mask).
struct HadamardChain {
  int transforms = 1;
  const std::uint32_t* sign[kMaxChain + 1] = {};
  float scale[kMaxChain + 1] = {1.0f, 1.0f, 1.0f, 1.0f};
  /// When set, the input is src[0, src_len) followed by zeros (not y): fused copy and padding.
  const float* src = nullptr;
  std::size_t src_len = 0;
  /// When set, y[0, copy_len) is also written here by the last kernel.
  float* copy_out = nullptr;
  std::size_t copy_len = 0;
  /// Device word: lowered (atomicMin) to the index of any non-finite src value. May be null.
  unsigned long long* first_bad = nullptr;
};

/// Runs the chain on y (device, size 2^log2n, 16-byte aligned), 0 <= log2n <= 31, on stream.
void run_hadamard_chain(float* y, int log2n, const HadamardChain& chain, cudaStream_t stream);

/// Kernel launches (= read-write passes over y) of a chain of `transforms` transforms.
int hadamard_launches(int log2n, int transforms);

/// 32-bit words of the sign mask of n coordinates: 4 per Philox block of 128 signs.
std::size_t sign_mask_words(std::size_t n);

/// mask[w] = word w % 4 of stream.block(w / 4), for w < sign_mask_words(n): bit i of the mask is
/// stream.sign_bit(i).
void make_sign_mask(const PhiloxStream& stream, std::size_t n, std::uint32_t* mask,
                    cudaStream_t cuda_stream);

/// Flags (atomicMin into *first_bad) the first non-finite value of x, size n.
void find_non_finite(const float* x, std::size_t n, unsigned long long* first_bad,
                     cudaStream_t stream);

}  // namespace dme::cuda::detail
