// Blocked rotations (Rotation's max_block, Options::rotation_block): m whole blocks of B, each by
// the k textbook RHTs of length B with its own bits of each sign vector, then the tail block
// [d - B, d) with the next B bits; orthogonal, exactly d coordinates, and the unblocked
// rotation whenever d <= B.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/extrema.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"
#include "rht_test_support.h"

namespace {

using dme::test::lognormal_vector;

constexpr auto kOverlapped = dme::RotationLayout::kOverlapped;

// The definition: block i by k RHTs with sign bits [iB, (i+1)B), then the tail block [d - B, d)
// with bits [mB, (m+1)B).
std::vector<double> blocked_reference(const std::vector<float>& x, std::size_t B, int k) {
  const std::size_t d = x.size(), m = d / B, head = m * B;
  const dme::Rotation signs(21, 3, k, head + (head < d ? B : 0));  // the same sign streams
  std::vector<std::pair<std::size_t, std::size_t>> blocks;
  for (std::size_t b = 0; b < m; ++b) blocks.emplace_back(b * B, b * B);
  if (head < d) blocks.emplace_back(d - B, head);
  return dme::test::block_chains(x, B, k, signs, blocks);
}

TEST(RhtBlocks, EachBlockIsItsOwnChain) {
  for (std::size_t B : {std::size_t(256), std::size_t(1024)}) {
    for (std::size_t d : {4 * B, 4 * B + 1, 5 * B - 3, 2 * B + B / 2, B + 7}) {
      for (int k = 1; k <= 3; ++k) {
        const dme::Rotation rot(21, 3, k, d, 0, kOverlapped, B);
        ASSERT_EQ(rot.padded(), d);
        ASSERT_EQ(rot.block(), B);
        const auto x = lognormal_vector(d, 500 + static_cast<unsigned>(d + k));
        dme::test::expect_rotation_matches(
            rot, x, blocked_reference(x, B, k),
            "B=" + std::to_string(B) + " d=" + std::to_string(d) + " k=" + std::to_string(k));
      }
    }
  }
}

TEST(RhtBlocks, NoLongerThanABlockIsTheUnblockedRotation) {
  for (std::size_t d : {std::size_t(1000), std::size_t(1024), std::size_t(3)}) {
    const dme::Rotation blocked(5, 2, 2, d, 0, kOverlapped, 1024),
        whole(5, 2, 2, d, 0, kOverlapped);
    EXPECT_EQ(blocked.block(), whole.block()) << d;
    const auto x = lognormal_vector(d, 3);
    std::vector<float> a(d), b(d);
    blocked.forward(x, a);
    whole.forward(x, b);
    EXPECT_EQ(a, b) << d;
  }
  // Two blocks of B = 2^floor(log2 d): the plain overlapped layout.
  const std::size_t d = 1500;
  const dme::Rotation two(5, 2, 2, d, 0, kOverlapped, 1024), plain(5, 2, 2, d, 0, kOverlapped);
  EXPECT_EQ(two.block(), 1024u);
  EXPECT_EQ(plain.block(), 1024u);
  const auto x = lognormal_vector(d, 4);
  std::vector<float> a(d), b(d);
  two.forward(x, a);
  plain.forward(x, b);
  EXPECT_EQ(a, b);
}

// Blocks the tail does not overlap can be rotated back early, in pieces, then the rest: the
// same bits as the inverse in one call (the pipelined allgather relies on it).
TEST(RhtBlocks, IndependentBlocksInvertOnTheirOwn) {
  const std::size_t B = 512;
  for (auto [d, independent] :
       {std::pair{4 * B, std::size_t(4)}, std::pair{4 * B + 5, std::size_t(3)},
        std::pair{B + 7, std::size_t(0)}}) {
    const dme::Rotation rot(2, 7, 2, d, 0, kOverlapped, B);
    EXPECT_EQ(rot.independent_blocks(), independent) << d;
    std::vector<float> y(d);
    rot.forward(lognormal_vector(d, 6), y);
    std::vector<float> want = y;
    rot.inverse_inplace(want);
    for (std::size_t split = 0; split <= independent; ++split) {
      std::vector<float> got = y;
      rot.inverse_blocks(got, 0, split / 2);
      rot.inverse_blocks(got, split / 2, split);
      rot.inverse_rest(got, split);
      EXPECT_EQ(got, want) << "d " << d << ", split " << split;
    }
    EXPECT_THROW(rot.inverse_blocks(y, 0, independent + 1), dme::Error);
    EXPECT_THROW(rot.inverse_rest(y, independent + 1), dme::Error);
  }
  // The two-block overlapped layout: its one whole block overlaps the tail.
  EXPECT_EQ(dme::Rotation(2, 7, 2, 3000, 0, kOverlapped).independent_blocks(), 0u);
}

// A forward a few blocks at a time (forward_blocks, with the extremes of what it wrote), then the
// rest (forward_rest), is the one-call forward, bit for bit: what a streamed rotation does. So are
// the same pieces written into buffers of their own coordinates (forward_blocks_to,
// forward_rest_to), as a pipeline rotates each chunk into one reused buffer.
TEST(RhtBlocks, ForwardInPiecesIsTheOneCallForward) {
  const std::size_t B = 512;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::size_t d : {4 * B, 4 * B + 5, 6 * B + B / 2, B + 7}) {
    for (int k : {1, 2, 3}) {
      const dme::Rotation rot(2, 7, k, d, 0, kOverlapped, B);
      const std::vector<float> x = lognormal_vector(d, 8 + unsigned(k));
      std::vector<float> want(d);
      rot.forward(x, want);
      const std::size_t independent = rot.independent_blocks();
      for (std::size_t split = 0; split <= independent; ++split) {
        for (bool own : {false, true}) {
          std::vector<float> got(d, nan);
          for (std::size_t b = 0; b < split; b += 2) {  // pieces of up to two blocks
            const std::size_t e = std::min(split, b + 2);
            const std::span<float> piece = std::span<float>(got).subspan(b * B, (e - b) * B);
            std::vector<float> buffer(piece.size(), nan);
            dme::Extrema<float> range{};
            if (own) {
              rot.forward_blocks_to(x, b, e, buffer, &range);
              std::copy(buffer.begin(), buffer.end(), piece.begin());
            } else {
              rot.forward_blocks(x, got, b, e, &range);
            }
            const auto [lo, hi] = std::minmax_element(piece.begin(), piece.end());
            EXPECT_EQ(range.min, *lo) << "d " << d << ", blocks [" << b << ", " << e << ")";
            EXPECT_EQ(range.max, *hi) << "d " << d << ", blocks [" << b << ", " << e << ")";
          }
          if (own) {
            std::vector<float> rest(d - split * B, nan);
            rot.forward_rest_to(x, split, rest);
            std::copy(rest.begin(), rest.end(), got.begin() + long(split * B));
          } else {
            rot.forward_rest(x, got, split);
          }
          EXPECT_EQ(got, want) << "d " << d << ", k " << k << ", split " << split
                               << (own ? ", own buffers" : "");
        }
      }
      std::vector<float> y(d), two(2 * B), one(B);
      EXPECT_THROW(rot.forward_blocks(x, y, 0, independent + 1), dme::Error);
      EXPECT_THROW(rot.forward_blocks(x, y, 1, 1), dme::Error);  // no blocks
      EXPECT_THROW(rot.forward_rest(x, y, independent + 1), dme::Error);
      EXPECT_THROW(rot.forward_rest(x, std::span<float>(y).first(d - 1), 0), dme::Error);
      EXPECT_THROW(rot.forward_blocks_to(x, 0, 1, two), dme::Error);  // wrong buffer length
      EXPECT_THROW(rot.forward_blocks_to(x, 0, independent + 1, one), dme::Error);
      EXPECT_THROW(rot.forward_rest_to(x, 0, one), dme::Error);
    }
  }
  // Unblocked (a power of two within the block, or no RHT): no rest to write on its own.
  std::vector<float> x(1024, 1.0f), out(1024);
  EXPECT_THROW(dme::Rotation(3, 5, 2, 1024, 0, kOverlapped).forward_rest_to(x, 0, out), dme::Error);
  EXPECT_THROW(dme::Rotation(3, 5, 0, 1024, 0, kOverlapped, B).forward_rest_to(x, 0, out),
               dme::Error);
}

TEST(RhtBlocks, BadBlocksAndNonFiniteInputsAreNamed) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const dme::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { dme::Rotation(1, 0, 2, 5000, 0, kOverlapped, 1000); }).find("1000"),
            std::string::npos);
  EXPECT_NE(message([] { dme::Rotation(1, 0, 2, 5000, 0, kOverlapped, 128); }).find("128"),
            std::string::npos);
  EXPECT_NE(message([] {
              dme::Rotation(1, 0, 2, 5000, 0, dme::RotationLayout::kPadded, 1024);
            }).find("overlapped"),
            std::string::npos);
  // A NaN in a middle block, in the last whole block and in the tail: named by its index.
  const std::size_t d = 5 * 256 + 100;
  for (std::size_t at : {std::size_t(600), std::size_t(1200), d - 1}) {
    std::vector<float> bad(d, 1.0f), out(d);
    bad[at] = std::numeric_limits<float>::infinity();
    const dme::Rotation r(1, 1, 2, d, 0, kOverlapped, 256);
    const std::string what = message([&] { r.forward(bad, out); });
    EXPECT_NE(what.find("at index " + std::to_string(at)), std::string::npos) << what;
    // In pieces: the piece that reads it names it.
    const std::string piece = message([&] {
      r.forward_blocks(bad, out, 0, r.independent_blocks());
      r.forward_rest(bad, out, r.independent_blocks());
    });
    EXPECT_NE(piece.find("at index " + std::to_string(at)), std::string::npos) << piece;
    const std::string own = message([&] {
      const std::size_t m = r.independent_blocks();
      std::vector<float> head(m * 256), rest(d - m * 256);
      r.forward_blocks_to(bad, 0, m, head);
      r.forward_rest_to(bad, m, rest);
    });
    EXPECT_NE(own.find("at index " + std::to_string(at)), std::string::npos) << own;
  }
}

}  // namespace
