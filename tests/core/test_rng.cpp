#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "dme/core/rng.h"

namespace {
using dme::PhiloxStream;
using dme::Purpose;

TEST(Philox, MatchesRandom123Directly) {
  // The stream is Philox4x32-10 with the documented counter/key layout.
  PhiloxStream s(0x1234567890abcdefULL, 7, 3, Purpose::kRounding);
  r123::Philox4x32 philox;
  r123::Philox4x32::ctr_type ctr = {{42u, (2u << 24) | 0u, 7u, 3u}};
  r123::Philox4x32::key_type key = {{0x90abcdefu, 0x12345678u}};
  auto expect = philox(ctr, key);
  auto got = s.block(42);
  for (int w = 0; w < 4; ++w) EXPECT_EQ(got.v[w], expect.v[w]);
  EXPECT_EQ(s.bits32(42 * 4 + 2), expect.v[2]);
}

TEST(Philox, DrawAtIndexIndependentOfHistory) {
  PhiloxStream a(99, 1, 0, Purpose::kRounding);
  std::vector<float> sequential(5000);
  for (std::size_t i = 0; i < sequential.size(); ++i) sequential[i] = a.uniform_float(i);
  // A fresh stream asked for the same indices in another order gives the same values.
  PhiloxStream b(99, 1, 0, Purpose::kRounding);
  for (std::size_t i = sequential.size(); i-- > 0;) EXPECT_EQ(b.uniform_float(i), sequential[i]);
  EXPECT_EQ(b.uniform_float(4321), sequential[4321]);
}

TEST(Philox, KeysSeparateStreams) {
  const std::uint64_t i = 12345;
  PhiloxStream base(5, 2, 1, Purpose::kRounding);
  std::set<std::uint32_t> seen = {base.bits32(i)};
  seen.insert(PhiloxStream(6, 2, 1, Purpose::kRounding).bits32(i));
  seen.insert(PhiloxStream(5, 3, 1, Purpose::kRounding).bits32(i));
  seen.insert(PhiloxStream(5, 2, 2, Purpose::kRounding).bits32(i));
  seen.insert(PhiloxStream(5, 2, 1, Purpose::kRotationSigns).bits32(i));
  seen.insert(PhiloxStream(5 + (1ULL << 32), 2, 1, Purpose::kRounding).bits32(i));
  EXPECT_EQ(seen.size(), 6u);
}

TEST(Philox, UniformsInRangeWithRightMoments) {
  // n = 2^20 draws: the sample mean of U(0,1) has sd 1/sqrt(12 n) ≈ 2.8e-4; 6 sd is 1.7e-3.
  PhiloxStream s(2024, 0, 0, Purpose::kInput);
  const std::size_t n = 1 << 20;
  double sf = 0, sd = 0, sf2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float f = s.uniform_float(i);
    double d = s.uniform_double(i);
    ASSERT_GE(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    sf += f;
    sd += d;
    sf2 += double(f) * f;
  }
  EXPECT_NEAR(sf / n, 0.5, 1.7e-3);
  EXPECT_NEAR(sd / n, 0.5, 1.7e-3);
  EXPECT_NEAR(sf2 / n, 1.0 / 3.0, 2e-3);
}

TEST(Philox, SignsAreBalancedAndMatchBits) {
  PhiloxStream s(7, 0, 0, Purpose::kRotationSigns);
  const std::size_t n = 1 << 20;
  long sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    float e = s.sign(i);
    ASSERT_TRUE(e == 1.0f || e == -1.0f);
    sum += static_cast<long>(e);
    auto blk = s.block(i / 128);
    bool bit = (blk.v[(i / 32) % 4] >> (i % 32)) & 1u;
    ASSERT_EQ(e, bit ? -1.0f : 1.0f);
  }
  // Sum of n Rademachers has sd sqrt(n) = 1024; 6 sd.
  EXPECT_LT(std::abs(sum), 6 * 1024);
}

}  // namespace
