// The FWHT kernels and the RHT on every SIMD target this machine has, against the scalar
// definition written out here: the same adds, subtracts, multiplies and sign flips in the same
// order, so every comparison is exact (bit-identical across targets).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../simd_test_support.h"
#include "dme/rotation/detail/fwht_spans.h"
#include "dme/rotation/fwht.h"
#include "dme/rotation/rht.h"

#include "rotation_test_support.h"

namespace {

// Elements per row of the blocked transform (DME_FWHT_ROW_LOG in src/dme/rotation/fwht.cpp):
// fwht_chain runs its even-numbered transforms columns first when n spans several rows, which
// fixes their rounding.
constexpr std::size_t kRowLength = std::size_t(1) << 16;

using dme::test::random_vector;

std::vector<std::uint64_t> random_mask(std::size_t n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::vector<std::uint64_t> m((n + 63) / 64);
  for (auto& w : m) w = g();
  return m;
}

// Butterfly levels [first, last) of the textbook transform, in level order.
template <class T>
void levels(T* x, std::size_t n, int first, int last) {
  for (int l = first; l < last; ++l) {
    const std::size_t h = std::size_t(1) << l;
    for (std::size_t i = 0; i < n; i += 2 * h)
      for (std::size_t j = i; j < i + h; ++j) {
        const T a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
  }
}

template <class T>
void flip(T* x, std::size_t n, const std::uint64_t* mask) {
  if (!mask) return;
  for (std::size_t i = 0; i < n; ++i)
    if ((mask[i >> 6] >> (i & 63)) & 1u) x[i] = -x[i];
}

// fwht_chain's definition: y <- lead ⊙ (src padded); then for t = 1..k: y <- H_t y,
// y <- scale · y, y <- (mid[t-1] or, after the last, trail) ⊙ y. H_t is the textbook level order,
// except for even t when k ≥ 2 and n spans several rows: column levels first, then row levels.
template <class T>
std::vector<T> chain_definition(std::size_t n, int k, const std::uint64_t* lead,
                                const std::vector<const std::uint64_t*>& mid,
                                const std::uint64_t* trail, T scale, const std::vector<T>& src) {
  std::vector<T> y(n, T(0));
  std::copy(src.begin(), src.end(), y.begin());
  flip(y.data(), n, lead);
  const int all = std::countr_zero(n);
  const int row = std::countr_zero(std::min(n, kRowLength));
  const bool split = k >= 2 && n > kRowLength;
  for (int t = 1; t <= k; ++t) {
    if (split && t % 2 == 0) {
      levels(y.data(), n, row, all);
      levels(y.data(), n, 0, row);
    } else {
      levels(y.data(), n, 0, all);
    }
    for (T& v : y) v *= scale;
    flip(y.data(), n, t < k ? mid[t - 1] : trail);
  }
  return y;
}

template <class T>
std::string describe(std::size_t n, std::size_t src_len, int k) {
  return "n=" + std::to_string(n) + " src_len=" + std::to_string(src_len) +
         " k=" + std::to_string(k) + (sizeof(T) == 4 ? " float" : " double");
}

// Exact equality, naming the first difference (EXPECT_EQ on vectors of 2^20 would print them).
template <class T>
void expect_identical(const std::vector<T>& got, const std::vector<T>& want,
                      const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i]) || std::signbit(got[i]) != std::signbit(want[i]))
      FAIL() << what << ": element " << i << " is " << got[i] << ", expected " << want[i];
}

template <class T>
void check_fused(std::size_t n, std::size_t src_len, bool signs, bool in_place, unsigned seed) {
  const auto src = random_vector<T>(src_len, seed);
  const auto pre = random_mask(n, seed + 1), post = random_mask(n, seed + 2);
  const T scale = T(1.0 / std::sqrt(double(n)));
  const std::uint64_t* p = signs ? pre.data() : nullptr;
  const std::uint64_t* q = signs ? post.data() : nullptr;
  const auto want = chain_definition<T>(n, 1, p, {}, q, scale, src);
  std::vector<T> x(n, T(7));  // garbage past src_len: the kernel must pad with zeros
  dme::Extrema<T> ext{};
  bool bad;
  if (in_place) {
    std::fill(x.begin(), x.end(), T(0));
    std::copy(src.begin(), src.end(), x.begin());
    bad =
        dme::detail::fwht_fused(x.data(), n, p, q, scale, static_cast<const T*>(nullptr), 0, &ext);
  } else {
    bad = dme::detail::fwht_fused(x.data(), n, p, q, scale, src.data(), src_len, &ext);
  }
  const std::string what = describe<T>(n, src_len, 1) + (in_place ? " in place" : "");
  EXPECT_FALSE(bad) << what;
  expect_identical(x, want, what);
  const auto [mn, mx] = std::minmax_element(want.begin(), want.end());
  EXPECT_EQ(ext.min, *mn) << what;
  EXPECT_EQ(ext.max, *mx) << what;
}

template <class T>
void fused_matches_definition_on_every_target(int max_log) {
  dme::test::for_each_simd_target([&](const std::string&) {
    for (int l = 0; l <= max_log; ++l) {
      const std::size_t n = std::size_t(1) << l;
      const unsigned seed = 10u * static_cast<unsigned>(l);
      check_fused<T>(n, n, true, true, seed);
      check_fused<T>(n, n, false, false, seed + 3);
      check_fused<T>(n, n - n / 4, true, false, seed + 5);  // zero padding inside a row
      if (n > 2) check_fused<T>(n, n / 2 + 1, true, false, seed + 7);
      if (::testing::Test::HasFatalFailure()) return;
    }
  });
}

TEST(FwhtSimd, FusedEqualsDefinitionFloat) {
  fused_matches_definition_on_every_target<float>(21);
}
TEST(FwhtSimd, FusedEqualsDefinitionDouble) {
  fused_matches_definition_on_every_target<double>(20);
}

// The public transform, unnormalised and orthonormal, equals the textbook loops bit for bit.
template <class T>
void public_fwht_matches_reference() {
  dme::test::for_each_simd_target([&](const std::string&) {
    for (int l = 0; l <= 20; ++l) {
      const std::size_t n = std::size_t(1) << l;
      auto x = random_vector<T>(n, 500u + static_cast<unsigned>(l));
      auto want = x;
      dme::detail::fwht_reference(want.data(), n);
      auto got = x;
      dme::fwht(std::span<T>(got));
      expect_identical(got, want, describe<T>(n, n, 1) + " fwht");
      const T scale = T(1.0 / std::sqrt(double(n)));
      for (T& v : want) v *= scale;
      got = x;
      dme::fwht(std::span<T>(got), dme::Normalize::kOrthonormal);
      expect_identical(got, want, describe<T>(n, n, 1) + " fwht orthonormal");
      if (::testing::Test::HasFatalFailure()) return;
    }
  });
}

TEST(FwhtSimd, PublicFwhtEqualsReferenceFloat) {
  public_fwht_matches_reference<float>();
}
TEST(FwhtSimd, PublicFwhtEqualsReferenceDouble) {
  public_fwht_matches_reference<double>();
}

// k transforms with signs between them, including the column-first ones of fwht_chain
// (n > kRowLength), out of place with padding and in place.
template <class T>
void chain_matches_definition(std::vector<int> logs = {0, 1, 2, 3, 4, 5, 9, 13, 16, 17, 18, 20}) {
  dme::test::for_each_simd_target([&](const std::string&) {
    for (int l : logs) {
      const std::size_t n = std::size_t(1) << l;
      for (int k = 1; k <= 3; ++k) {
        const unsigned seed = 1000u + 10u * static_cast<unsigned>(l) + static_cast<unsigned>(k);
        const std::size_t src_len = n > 4 ? n - n / 8 - 1 : n;
        const auto src = random_vector<T>(src_len, seed);
        std::vector<std::vector<std::uint64_t>> masks;
        for (int j = 0; j < 4; ++j) masks.push_back(random_mask(n, seed + 1 + j));
        std::vector<const std::uint64_t*> mid;
        for (int j = 1; j < k; ++j) mid.push_back(masks[j].data());
        const T scale = T(1.0 / std::sqrt(double(n)));
        const auto want =
            chain_definition<T>(n, k, masks[0].data(), mid, masks[3].data(), scale, src);
        std::vector<T> x(n, T(-3));
        dme::Extrema<T> ext{};
        const bool bad = dme::detail::fwht_chain(x.data(), n, k, masks[0].data(), mid.data(),
                                                 masks[3].data(), scale, src.data(), src_len, &ext);
        const std::string what = describe<T>(n, src_len, k) + " chain";
        EXPECT_FALSE(bad) << what;
        expect_identical(x, want, what);
        const auto [mn, mx] = std::minmax_element(want.begin(), want.end());
        EXPECT_EQ(ext.min, *mn) << what;
        EXPECT_EQ(ext.max, *mx) << what;
        // In place, no leading or trailing signs.
        std::vector<T> y(n, T(0));
        std::copy(src.begin(), src.end(), y.begin());
        dme::detail::fwht_chain(y.data(), n, k, nullptr, mid.data(), nullptr, scale);
        expect_identical(y, chain_definition<T>(n, k, nullptr, mid, nullptr, scale, src),
                         what + " in place");
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  });
}

TEST(FwhtSimd, ChainEqualsDefinitionFloat) {
  chain_matches_definition<float>();
}
TEST(FwhtSimd, ChainEqualsDefinitionDouble) {
  chain_matches_definition<double>();
}

// A chain of 16 or more rows whose column panels do not fit half the L2 takes its first column
// levels in two sweeps (rows in groups, fwht_spans.h): the same bits. A small L2 is set so that
// lengths of 2^20 and 2^21 (16 and 32 rows) take that path on every machine; the single
// transforms (depth first at these lengths whatever the L2) are checked beside them.
template <class T>
void grouped_sweeps_match_definition(int max_log) {
  dme::detail::fwht_l2_override().store(16384);
  dme::test::for_each_simd_target([&](const std::string&) {
    for (int l = 20; l <= max_log; ++l) {
      const std::size_t n = std::size_t(1) << l;
      ASSERT_GT(dme::detail::fwht_row_group(n / kRowLength, 2048), 0u);
      const unsigned seed = 900u + 10u * static_cast<unsigned>(l);
      check_fused<T>(n, n, true, true, seed);
      check_fused<T>(n, n, false, false, seed + 3);
      check_fused<T>(n, n - n / 3, true, false, seed + 5);  // zero padding from a middle group
      if (::testing::Test::HasFatalFailure()) break;
    }
  });
  if (!::testing::Test::HasFatalFailure()) {
    std::vector<int> logs;
    for (int l = 20; l <= max_log; ++l) logs.push_back(l);
    chain_matches_definition<T>(logs);
  }
  dme::detail::fwht_l2_override().store(0);
}

TEST(FwhtSimd, GroupedSweepsEqualDefinitionFloat) {
  grouped_sweeps_match_definition<float>(21);
}
TEST(FwhtSimd, GroupedSweepsEqualDefinitionDouble) {
  grouped_sweeps_match_definition<double>(20);
}

// A NaN or Inf anywhere in the input is reported, from every position a vector lane can hold.
template <class T>
void reports_non_finite() {
  dme::test::for_each_simd_target([&](const std::string&) {
    for (int l : {0, 1, 3, 4, 5, 6, 12, 14, 17}) {
      const std::size_t n = std::size_t(1) << l;
      auto src = random_vector<T>(n, 77u + static_cast<unsigned>(l));
      std::vector<T> x(n);
      const std::uint64_t* no_mid[1] = {nullptr};
      EXPECT_FALSE(dme::detail::fwht_fused(x.data(), n, nullptr, nullptr, T(1), src.data(), n))
          << "n=" << n;
      for (std::size_t at : {std::size_t(0), n / 3, n - 1, n / 2 + 5}) {
        at %= n;
        for (T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity(),
                      -std::numeric_limits<T>::infinity()}) {
          auto s = src;
          s[at] = bad;
          EXPECT_TRUE(dme::detail::fwht_fused(x.data(), n, nullptr, nullptr, T(1), s.data(), n))
              << "n=" << n << " at=" << at;
          EXPECT_TRUE(
              dme::detail::fwht_chain(x.data(), n, 2, nullptr, no_mid, nullptr, T(1), s.data(), n))
              << "chain n=" << n << " at=" << at;
        }
        // +Inf and -Inf side by side: the transform's sums are NaN where they meet, Inf
        // elsewhere; still reported (the first pass tests its outputs, not its inputs).
        if (n >= 2) {
          auto s = src;
          s[at] = std::numeric_limits<T>::infinity();
          s[at ^ 1] = -std::numeric_limits<T>::infinity();
          EXPECT_TRUE(dme::detail::fwht_fused(x.data(), n, nullptr, nullptr, T(1), s.data(), n))
              << "n=" << n << " at=" << at << " with -Inf beside";
        }
      }
    }
  });
}

TEST(FwhtSimd, ReportsNonFiniteInputFloat) {
  reports_non_finite<float>();
}
TEST(FwhtSimd, ReportsNonFiniteInputDouble) {
  reports_non_finite<double>();
}

// The RHT through its public API: forward (out of place, with extremes, in place) and inverse
// equal the chain definition with the rotation's own sign masks, on every target.
template <class T>
void rht_matches_definition() {
  dme::test::for_each_simd_target([&](const std::string&) {
    for (std::size_t d : {std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(17),
                          std::size_t(1000), std::size_t(4096), (std::size_t(1) << 16) + 1,
                          (std::size_t(1) << 19) - 3, std::size_t(1) << 20}) {
      for (int k = 1; k <= 3; ++k) {
        const dme::Rotation rot(5, 2, k, d);
        const std::size_t n = rot.padded();
        const T scale = T(1.0 / std::sqrt(double(n)));
        const auto x = random_vector<T>(d, static_cast<unsigned>(d) + 31u * k);
        std::vector<const std::uint64_t*> mid, inv_mid;
        for (int j = 1; j < k; ++j) mid.push_back(rot.sign_mask(j).data());
        for (int j = k - 1; j >= 1; --j) inv_mid.push_back(rot.sign_mask(j).data());
        const auto want =
            chain_definition<T>(n, k, rot.sign_mask(0).data(), mid, nullptr, scale, x);
        const std::string what = describe<T>(n, d, k) + " rht";
        std::vector<T> y(n);
        rot.forward(std::span<const T>(x), std::span<T>(y));
        expect_identical(y, want, what + " forward");
        std::vector<T> z(n, T(0));
        std::copy(x.begin(), x.end(), z.begin());
        rot.forward_inplace(std::span<T>(z));
        expect_identical(z, want, what + " forward_inplace");
        if constexpr (sizeof(T) == 4) {
          float lo = 0, hi = 0;
          rot.forward(std::span<const float>(x), std::span<float>(z), lo, hi);
          expect_identical(z, want, what + " forward with extremes");
          const auto [mn, mx] = std::minmax_element(want.begin(), want.end());
          EXPECT_EQ(lo, *mn) << what;
          EXPECT_EQ(hi, *mx) << what;
        }
        const auto back =
            chain_definition<T>(n, k, nullptr, inv_mid, rot.sign_mask(0).data(), scale, want);
        std::vector<T> out(d);
        rot.inverse(std::span<T>(y), std::span<T>(out));
        expect_identical(y, back, what + " inverse");
        expect_identical(out, std::vector<T>(back.begin(), back.begin() + d),
                         what + " inverse out");
        if (::testing::Test::HasFatalFailure()) return;
      }
    }
  });
}

TEST(RhtSimd, ForwardAndInverseEqualDefinitionFloat) {
  rht_matches_definition<float>();
}
TEST(RhtSimd, ForwardAndInverseEqualDefinitionDouble) {
  rht_matches_definition<double>();
}

}  // namespace
