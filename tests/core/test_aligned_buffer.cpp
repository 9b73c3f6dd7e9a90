#include <gtest/gtest.h>

#include <cstdint>

#include "dme/core/aligned_buffer.h"

TEST(AlignedBuffer, DataIsCacheLineAligned) {
  for (std::size_t n : {1u, 3u, 17u, 1000u, 1u << 20}) {
    dme::AlignedVector<float> v(n, 1.0f);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(v.data()) % dme::kAlignment, 0u) << n;
    EXPECT_EQ(v.back(), 1.0f);
  }
}
