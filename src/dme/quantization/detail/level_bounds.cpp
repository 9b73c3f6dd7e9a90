#include "dme/quantization/detail/level_bounds.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "dme/core/detail/simd.h"
#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/detail/smawk.h"

namespace dme::detail {
namespace {

// Points per group. The bounds lose the error of the points in the groups that hold levels (a
// fraction ~ s / G of it), which widens the ranges the fine DP works on, while the group DPs
// cost O(s·G log G): about 2·sqrt(n·s) groups balance the two (measured for n = 2^16 .. 2^20,
// s = 4 .. 64: within 10% of the best power of two).
std::size_t default_group_size(std::size_t n, std::size_t s) {
  const double groups = 2.0 * std::sqrt(static_cast<double>(n) * static_cast<double>(s));
  return std::max<std::size_t>(8, static_cast<std::size_t>(static_cast<double>(n) / groups));
}

constexpr double kInf = std::numeric_limits<double>::infinity();

class Groups {
 public:
  // Groups of at most g points and, where the data are sparse (the tails), at most 1/(n/g) of
  // the range wide: a group that holds a level loses its error from the bound, so no group may
  // hold much of it.
  Groups(const double* x, std::size_t n, std::size_t g) : x_(x) {
    const double width = (x[n - 1] - x[0]) / static_cast<double>((n + g - 1) / g);
    starts_.push_back(0);
    for (std::size_t b = 0; b < n;) {
      std::size_t e = std::min(n, b + g);
      if (x[e - 1] - x[b] > width) {
        // The first point more than `width` above x[b] ends the group (at least one point).
        const double top = x[b] + width;
        e = static_cast<std::size_t>(std::upper_bound(x + b + 1, x + e - 1, top) - x);
      }
      starts_.push_back(e);
      b = e;
    }
    count_ = starts_.size() - 1;
    s1_.resize(count_ + 1);
    s2_.resize(count_ + 1);
    CompensatedSum c1, c2;
    s1_[0] = s2_[0] = 0;
    for (std::size_t q = 0; q < count_; ++q) {
      // Four chains: the sums of one group are short, their rounding negligible next to the
      // tolerance; the running sums over groups are compensated.
      double a[4] = {0, 0, 0, 0}, sq[4] = {0, 0, 0, 0};
      std::size_t t = start(q);
      const std::size_t e = end(q);
      for (; t + 4 <= e; t += 4)
        for (int i = 0; i < 4; ++i) {
          a[i] += x[t + i];
          sq[i] += x[t + i] * x[t + i];
        }
      for (; t < e; ++t) {
        a[0] += x[t];
        sq[0] += x[t] * x[t];
      }
      c1.add((a[0] + a[1]) + (a[2] + a[3]));
      c2.add((sq[0] + sq[1]) + (sq[2] + sq[3]));
      s1_[q + 1] = c1.value();
      s2_[q + 1] = c2.value();
    }
  }

  std::size_t count() const { return count_; }
  std::size_t start(std::size_t q) const { return starts_[q]; }
  std::size_t end(std::size_t q) const { return starts_[q + 1]; }
  double lo(std::size_t q) const { return x_[start(q)]; }
  double hi(std::size_t q) const { return x_[end(q) - 1]; }
  /// The group of candidate t.
  std::size_t group_of(std::size_t t) const {
    return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), t) -
                                    starts_.begin()) -
           1;
  }

  // The bound as the sum Σ (hi(a) - x)(x - lo(b))... over the points from end(a) to start(b),
  // a signed range (negative for b = a: minus group a's own spread, which keeps L(a, a) <= 0,
  // still a lower bound for two levels in one group, and L Monge on a <= b):
  //   L(a, b) = R[a] + C[b] + A[a]·P[b] + Q[a]·B[b]
  // with A = hi(a), B = lo(b), S1, S2 and N the sums and count before a point:
  //   R[a] = S2(end a) - A·S1(end a),   Q[a] = A·end(a) - S1(end a),
  //   C[b] = B·S1(start b) - S2(start b),  P[b] = S1(start b) - B·start(b).
  struct Terms {
    std::vector<double> r, q, a, c, p, b;
  };
  Terms terms() const {
    Terms t;
    for (auto* v : {&t.r, &t.q, &t.a, &t.c, &t.p, &t.b}) v->resize(count_);
    for (std::size_t g = 0; g < count_; ++g) {
      const double a = hi(g), s1e = s1_[g + 1], s2e = s2_[g + 1];
      t.a[g] = a;
      t.r[g] = s2e - a * s1e;
      t.q[g] = a * static_cast<double>(end(g)) - s1e;
      const double b = lo(g), s1s = s1_[g], s2s = s2_[g];
      t.b[g] = b;
      t.c[g] = b * s1s - s2s;
      t.p[g] = s1s - b * static_cast<double>(start(g));
    }
    return t;
  }

  /// The true error of the points strictly between candidates k < j.
  double error(std::size_t k, std::size_t j) const {
    const double lo = x_[k], hi = x_[j];
    double e = 0;
    std::size_t t = k + 1;
    while (t < j) {
      const std::size_t q = group_of(t);
      if (t == start(q) && end(q) <= j) {       // whole groups by their sums
        const std::size_t q_end = group_of(j);  // groups q .. q_end-1 lie inside (k, j)
        const double count = static_cast<double>(start(q_end) - start(q));
        const double s1 = s1_[q_end] - s1_[q], s2 = s2_[q_end] - s2_[q];
        e += (lo + hi) * s1 - lo * hi * count - s2;
        t = start(q_end);
        continue;
      }
      const std::size_t stop = std::min(end(q), j);
      for (; t < stop; ++t) e += (hi - x_[t]) * (x_[t] - lo);
    }
    return e;
  }

 private:
  const double* x_;
  std::size_t count_ = 0;
  std::vector<std::size_t> starts_;  // size count_ + 1
  std::vector<double> s1_, s2_;      // Σ x and Σ x² before each group, compensated
};

// out[j] = min_{k <= j} f[k] + xc[j]·ur[k] - xr[k]·uc[j], argmin the smallest minimising k.
void minima(const std::vector<double>& f, const std::vector<double>& xr,
            const std::vector<double>& ur, const std::vector<double>& xc,
            const std::vector<double>& uc, std::uint32_t* argmin, double* out, Smawk& smawk) {
  const std::size_t n = f.size();
#if DME_HAVE_AVX512
  (void)smawk;
  bilinear_column_minima(f.data(), xr.data(), ur.data(), xc.data(), uc.data(), n, argmin, out);
#else
  smawk.column_minima(
      n, n,
      [&](std::size_t k, std::size_t j) {
        return k > j ? kInf : f[k] + (xc[j] * ur[k] - xr[k] * uc[j]);
      },
      argmin, out);
#endif
}

}  // namespace

std::vector<IndexRange> optimal_level_ranges(const double* x, std::size_t n, std::size_t s,
                                             std::size_t group_size) {
  DME_ASSERT(n >= 2 && s >= 2);
  std::vector<IndexRange> ranges(s + 1, IndexRange{0, n - 1});
  ranges[1] = {0, 0};
  ranges[s] = {n - 1, n - 1};
  if (s == 2) return ranges;
  const std::size_t g = group_size > 0 ? group_size : default_group_size(n, s);
  const Groups groups(x, n, g);
  const std::size_t G = groups.count();
  const Groups::Terms t = groups.terms();
  Smawk smawk;

  // Forward: fl[l][q] for l = 2 .. s (fl[s][G-1] bounds the optimum), with argmins for the
  // group path that gives U. Row k: f + R, coefficients (u, x) = (A, -Q); column j: (P, B).
  std::vector<double> neg_q(G);
  for (std::size_t q = 0; q < G; ++q) neg_q[q] = -t.q[q];
  std::vector<std::vector<double>> fl(s + 1);
  std::vector<std::vector<std::uint32_t>> from(s + 1);
  fl[2].resize(G);
  for (std::size_t q = 0; q < G; ++q)
    fl[2][q] = t.r[0] + t.c[q] + t.a[0] * t.p[q] + t.q[0] * t.b[q];
  std::vector<double> row(G);
  for (std::size_t l = 3; l <= s; ++l) {
    fl[l].resize(G);
    from[l].resize(G);
    for (std::size_t q = 0; q < G; ++q) row[q] = fl[l - 1][q] + t.r[q];
    minima(row, neg_q, t.a, t.p, t.b, from[l].data(), fl[l].data(), smawk);
    for (std::size_t q = 0; q < G; ++q) fl[l][q] += t.c[q];
  }
  // Backward: bl[r][q] for r = 1 .. s - 2, as a forward problem on reversed group indices:
  // row i = G-1-b (the later level): f + C, coefficients (u, x) = (P, -B); column i = G-1-a:
  // (A, Q).
  std::vector<double> rev_nb(G), rev_p(G), rev_a(G), rev_q(G), out(G);
  for (std::size_t i = 0; i < G; ++i) {
    const std::size_t q = G - 1 - i;
    rev_nb[i] = -t.b[q];
    rev_p[i] = t.p[q];
    rev_a[i] = t.a[q];
    rev_q[i] = t.q[q];
  }
  std::vector<std::vector<double>> bl(s - 1);
  bl[1].resize(G);
  const std::size_t last = G - 1;
  for (std::size_t q = 0; q < G; ++q)
    bl[1][q] = t.r[q] + t.c[last] + t.a[q] * t.p[last] + t.q[q] * t.b[last];
  std::vector<std::uint32_t> scratch(G);
  for (std::size_t r = 2; r <= s - 2; ++r) {
    for (std::size_t i = 0; i < G; ++i) row[i] = bl[r - 1][G - 1 - i] + t.c[G - 1 - i];
    minima(row, rev_nb, rev_p, rev_a, rev_q, scratch.data(), out.data(), smawk);
    bl[r].resize(G);
    for (std::size_t q = 0; q < G; ++q) bl[r][q] = out[G - 1 - q] + t.r[q];
  }

  // U: the true error of the group optimum with its inner levels at the middle of their groups.
  std::vector<std::size_t> levels(s);
  levels[0] = 0;
  levels[s - 1] = n - 1;
  std::size_t q = G - 1;
  for (std::size_t l = s; l >= 3; --l) {
    q = from[l][q];
    levels[l - 2] = (groups.start(q) + groups.end(q)) / 2;
  }
  double upper = 0;
  for (std::size_t i = 0; i + 1 < s; ++i)
    if (levels[i] < levels[i + 1]) upper += groups.error(levels[i], levels[i + 1]);

  // Every bound above is a sum of at most s + 1 terms, each with a rounding error below a few
  // ulps of n·M² (M the largest |x|: every product and prefix sum above is at most 2n·M²), and
  // the column minima of a Monge matrix evaluated with such errors are off by at most
  // (depth)·(that error): the tolerance takes ~4000 ulps of n·M² per level, still ~1e-8 of the
  // optimum on typical data.
  const double m = std::max(std::abs(x[0]), std::abs(x[n - 1]));
  const double tol = 1e-12 * static_cast<double>(s + 2) * static_cast<double>(n) * m * m;
  const double limit = upper + tol;
  if (!std::isfinite(limit)) return ranges;
  for (std::size_t l = 2; l < s; ++l) {
    const std::vector<double>& f = fl[l];
    const std::vector<double>& b = bl[s - l];
    std::size_t first = G, final = 0;
    for (std::size_t g2 = 0; g2 < G; ++g2)
      if (f[g2] + b[g2] <= limit) {
        first = std::min(first, g2);
        final = g2;
      }
    if (first < G) ranges[l] = {groups.start(first), groups.end(final) - 1};
  }
  return ranges;
}

}  // namespace dme::detail
