// Philox draws in bulk on the best SIMD target (philox_hwy-inl.h), for the rotation's sign masks
// and for tests that compare every target with PhiloxStream.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "dme/core/detail/philox_kernels.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep

#include <hwy/highway.h>

#include "dme/core/detail/philox_hwy-inl.h"
#include "dme/core/detail/philox_words.h"

HWY_BEFORE_NAMESPACE();
namespace dme::detail::HWY_NAMESPACE {

#if HWY_TARGET == HWY_SCALAR
void PhiloxWords64(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                   std::uint64_t* out) {
  std::uint32_t w[4][16];
  for (std::size_t b = 0; b < blocks; b += 16) {
    philox_blocks16(key, first_block + b, w);
    for (std::size_t l = 0; l < 16 && b + l < blocks; ++l) {
      out[2 * (b + l)] = std::uint64_t(w[0][l]) | (std::uint64_t(w[1][l]) << 32);
      out[2 * (b + l) + 1] = std::uint64_t(w[2][l]) | (std::uint64_t(w[3][l]) << 32);
    }
  }
}

void PhiloxUniforms(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                    float* out) {
  std::uint32_t w[4][16];
  for (std::size_t b = 0; b < blocks; b += 16) {
    philox_blocks16(key, first_block + b, w);
    for (std::size_t l = 0; l < 16 && b + l < blocks; ++l)
      for (int k = 0; k < 4; ++k)
        out[4 * (b + l) + k] = static_cast<float>(w[k][l] >> 8) * 0x1p-24f;
  }
}
#else
void PhiloxWords64(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                   std::uint64_t* out) {
  const PhiloxLanes philox(key);
  const PhiloxLanes::D64 d64;
  const std::size_t step = PhiloxLanes::blocks_per_call(), n64 = hn::Lanes(d64);
  std::size_t b = 0;
  for (; b + step <= blocks; b += step) {
    PhiloxLanes::V64 o0, o1, o2, o3;
    philox.words64(first_block + b, o0, o1, o2, o3);
    std::uint64_t* p = out + 2 * b;
    hn::StoreU(o0, d64, p);
    hn::StoreU(o1, d64, p + n64);
    hn::StoreU(o2, d64, p + 2 * n64);
    hn::StoreU(o3, d64, p + 3 * n64);
  }
  if (b < blocks) {  // the tail through a buffer
    HWY_ALIGN std::uint64_t tmp[4 * (HWY_MAX_BYTES / 8)];
    PhiloxLanes::V64 o0, o1, o2, o3;
    philox.words64(first_block + b, o0, o1, o2, o3);
    hn::Store(o0, d64, tmp);
    hn::Store(o1, d64, tmp + n64);
    hn::Store(o2, d64, tmp + 2 * n64);
    hn::Store(o3, d64, tmp + 3 * n64);
    for (std::size_t i = 0; i < 2 * (blocks - b); ++i) out[2 * b + i] = tmp[i];
  }
}

void PhiloxUniforms(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                    float* out) {
  const PhiloxLanes philox(key);
  const PhiloxLanes::DF df;
  const std::size_t step = PhiloxLanes::blocks_per_call(), nf = hn::Lanes(df);
  std::size_t b = 0;
  for (; b + 2 * step <= blocks; b += 2 * step) {
    PhiloxLanes::VF u0, u1, u2, u3, u4, u5, u6, u7;
    philox.uniforms2(first_block + b, u0, u1, u2, u3, u4, u5, u6, u7);
    float* p = out + 4 * b;
    hn::StoreU(u0, df, p);
    hn::StoreU(u1, df, p + nf);
    hn::StoreU(u2, df, p + 2 * nf);
    hn::StoreU(u3, df, p + 3 * nf);
    hn::StoreU(u4, df, p + 4 * nf);
    hn::StoreU(u5, df, p + 5 * nf);
    hn::StoreU(u6, df, p + 6 * nf);
    hn::StoreU(u7, df, p + 7 * nf);
  }
  for (; b + step <= blocks; b += step) {
    PhiloxLanes::VF u0, u1, u2, u3;
    philox.uniforms(first_block + b, u0, u1, u2, u3);
    float* p = out + 4 * b;
    hn::StoreU(u0, df, p);
    hn::StoreU(u1, df, p + nf);
    hn::StoreU(u2, df, p + 2 * nf);
    hn::StoreU(u3, df, p + 3 * nf);
  }
  if (b < blocks) {
    HWY_ALIGN float tmp[4 * (HWY_MAX_BYTES / 4)];
    PhiloxLanes::VF u0, u1, u2, u3;
    philox.uniforms(first_block + b, u0, u1, u2, u3);
    hn::Store(u0, df, tmp);
    hn::Store(u1, df, tmp + nf);
    hn::Store(u2, df, tmp + 2 * nf);
    hn::Store(u3, df, tmp + 3 * nf);
    for (std::size_t i = 0; i < 4 * (blocks - b); ++i) out[4 * b + i] = tmp[i];
  }
}

#endif  // HWY_TARGET == HWY_SCALAR

}  // namespace dme::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "dme/core/simd.h"

namespace dme::detail {

HWY_EXPORT(PhiloxWords64);
HWY_EXPORT(PhiloxUniforms);

void philox_words64(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                    std::uint64_t* out) {
  simd_init();
  HWY_DYNAMIC_DISPATCH(PhiloxWords64)(key, first_block, blocks, out);
}

void philox_uniforms(const PhiloxWords& key, std::uint64_t first_block, std::size_t blocks,
                     float* out) {
  simd_init();
  HWY_DYNAMIC_DISPATCH(PhiloxUniforms)(key, first_block, blocks, out);
}

}  // namespace dme::detail
#endif
