#include "dme/quantization/detail/level_bounds.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "dme/core/error.h"
#include "dme/quantization/detail/accel_minima.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/detail/dp_budget.h"

namespace dme::detail {
namespace {

// Points per group. The bounds lose the error of the points in the groups that hold levels (a
// fraction ~ s / G of it), which widens the ranges the fine DP works on, while the group DPs
// cost O(s·G log G): about 4·sqrt(n·s) groups balance the two (measured for n = 2^16 .. 2^20,
// s = 4 .. 64: within 10% of the best power of two).
std::size_t default_group_size(std::size_t n, std::size_t s) {
  const double groups = 4.0 * std::sqrt(static_cast<double>(n) * static_cast<double>(s));
  return std::max<std::size_t>(8, static_cast<std::size_t>(static_cast<double>(n) / groups));
}

// A first pass on coarse groups (16 per level) confines the fine group DPs to ranges too, where
// the fine groups are many (0: no coarse pass).
std::size_t default_coarse_size(std::size_t n, std::size_t s, std::size_t g) {
  const std::size_t coarse = std::max<std::size_t>(1, n / (16 * s));
  return coarse >= 8 * g ? coarse : 0;
}

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

  /// Coarse groups: runs of the fine groups, each at most g points and, unless it is one fine
  /// group, at most (range / (n/g)) wide; sums taken from the fine groups'.
  Groups(const Groups& fine, std::size_t n, std::size_t g) : x_(fine.x_) {
    const double width = (x_[n - 1] - x_[0]) / static_cast<double>((n + g - 1) / g);
    starts_.push_back(0);
    s1_.push_back(0);
    s2_.push_back(0);
    for (std::size_t f = 0; f < fine.count_;) {
      const std::size_t b = fine.start(f);
      std::size_t e = f + 1;  // fine groups [f, e)
      while (e < fine.count_ && fine.end(e) - b <= g && x_[fine.end(e) - 1] - x_[b] <= width) ++e;
      starts_.push_back(fine.start(e));
      s1_.push_back(fine.s1_[e]);
      s2_.push_back(fine.s2_[e]);
      f = e;
    }
    count_ = starts_.size() - 1;
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

// out[j - cols.lo] = min_{k in rows, k <= j} f[k - rows.lo] + xc[j]·ur[k] - xr[k]·uc[j] for j
// in cols (rows.lo <= cols.lo, rows.hi <= cols.hi), argmin the smallest minimising k.
void minima(const std::vector<double>& f, const std::vector<double>& xr,
            const std::vector<double>& ur, const std::vector<double>& xc,
            const std::vector<double>& uc, IndexRange rows, IndexRange cols, std::uint32_t* argmin,
            double* out) {
  bilinear_window_minima(f.data(), xr.data(), ur.data(), xc.data(), uc.data(), rows.lo, rows.hi,
                         cols.lo, cols.hi, argmin, out);
}

// One layer of a group DP: values over a range of groups.
struct GroupLayer {
  IndexRange cols;
  std::vector<double> v;            // v[q - cols.lo]
  std::vector<std::uint32_t> from;  // forward layers: the argmin group of the previous level
};

// The next layer's columns and the rows it uses, as in the fine DP: a column needs a row at or
// before it. False when nothing is left (impossible when the ranges hold an optimal solution).
bool layer_ranges(IndexRange rows, IndexRange want, IndexRange& cols, IndexRange& used) {
  cols = {std::max(want.lo, rows.lo), want.hi};
  if (cols.lo > cols.hi) return false;
  used = {rows.lo, std::min(rows.hi, cols.hi)};
  return true;
}

// One pass of group bounds: shrinks `ranges` (which hold an optimal solution, and still do after).
void refine(const Groups& groups, std::size_t n, std::size_t s, double tol,
            std::vector<IndexRange>& ranges) {
  const std::size_t G = groups.count(), last = G - 1;
  const Groups::Terms t = groups.terms();
  // The groups each level may occupy.
  std::vector<IndexRange> want(s + 1);
  for (std::size_t l = 1; l <= s; ++l)
    want[l] = {groups.group_of(ranges[l].lo), groups.group_of(ranges[l].hi)};
  auto bound = [&](std::size_t a, std::size_t b) {  // L(a, b)
    return t.r[a] + t.c[b] + t.a[a] * t.p[b] + t.q[a] * t.b[b];
  };

  // Forward, l = 2 .. s. Row k: f + R, coefficients (u, x) = (A, -Q); column j: (P, B).
  std::vector<double> neg_q(G);
  for (std::size_t q = 0; q < G; ++q) neg_q[q] = -t.q[q];
  // Both sweeps keep their layers (values, and the forward argmins): dp_budget.h.
  DpBudget budget(s, n);
  std::vector<GroupLayer> fw(s + 1);
  fw[2].cols = want[2];
  for (std::size_t q = want[2].lo; q <= want[2].hi; ++q) fw[2].v.push_back(bound(0, q));
  std::vector<double> row;
  for (std::size_t l = 3; l <= s; ++l) {
    const GroupLayer& prev = fw[l - 1];
    GroupLayer& next = fw[l];
    IndexRange used;
    if (!layer_ranges(prev.cols, want[l], next.cols, used)) return;
    budget.add(next.cols.size() * (sizeof(double) + sizeof(std::uint32_t)));
    row.resize(used.size());
    for (std::size_t k = used.lo; k <= used.hi; ++k)
      row[k - used.lo] = prev.v[k - prev.cols.lo] + t.r[k];
    next.v.resize(next.cols.size());
    next.from.resize(next.cols.size());
    minima(row, neg_q, t.a, t.p, t.b, used, next.cols, next.from.data(), next.v.data());
    for (std::size_t q = next.cols.lo; q <= next.cols.hi; ++q) next.v[q - next.cols.lo] += t.c[q];
  }

  // Backward, r = 1 .. s - 2 more levels after level s - r, as forward problems on reversed
  // group indices i = G-1-q: row (the later level b): f + C, coefficients (u, x) = (P, -B);
  // column (a): (A, Q).
  std::vector<double> rev_nb(G), rev_p(G), rev_a(G), rev_q(G), out;
  for (std::size_t i = 0; i < G; ++i) {
    const std::size_t q = last - i;
    rev_nb[i] = -t.b[q];
    rev_p[i] = t.p[q];
    rev_a[i] = t.a[q];
    rev_q[i] = t.q[q];
  }
  auto reversed = [last](IndexRange r) { return IndexRange{last - r.hi, last - r.lo}; };
  std::vector<GroupLayer> bw(s - 1);
  bw[1].cols = want[s - 1];
  for (std::size_t q = want[s - 1].lo; q <= want[s - 1].hi; ++q) bw[1].v.push_back(bound(q, last));
  std::vector<std::uint32_t> scratch;
  for (std::size_t r = 2; r <= s - 2; ++r) {
    const GroupLayer& prev = bw[r - 1];
    GroupLayer& next = bw[r];
    const IndexRange rows = reversed(prev.cols);
    IndexRange cols, used;
    if (!layer_ranges(rows, reversed(want[s - r]), cols, used)) return;
    budget.add(cols.size() * sizeof(double));
    row.resize(used.size());
    for (std::size_t i = used.lo; i <= used.hi; ++i)
      row[i - used.lo] = prev.v[(last - i) - prev.cols.lo] + t.c[last - i];
    out.resize(cols.size());
    scratch.resize(cols.size());
    minima(row, rev_nb, rev_p, rev_a, rev_q, used, cols, scratch.data(), out.data());
    next.cols = reversed(cols);
    next.v.resize(cols.size());
    for (std::size_t q = next.cols.lo; q <= next.cols.hi; ++q)
      next.v[q - next.cols.lo] = out[(last - q) - cols.lo] + t.r[q];
  }

  // U: the true error of the group optimum with its inner levels at the middle of their groups.
  std::vector<std::size_t> levels(s);
  levels[0] = 0;
  levels[s - 1] = n - 1;
  std::size_t q = last;
  for (std::size_t l = s; l >= 3; --l) {
    q = fw[l].from[q - fw[l].cols.lo];
    levels[l - 2] = (groups.start(q) + groups.end(q)) / 2;
  }
  double upper = 0;
  for (std::size_t i = 0; i + 1 < s; ++i)
    if (levels[i] < levels[i + 1]) upper += groups.error(levels[i], levels[i + 1]);
  const double limit = upper + tol;
  if (!std::isfinite(limit)) return;

  for (std::size_t l = 2; l < s; ++l) {
    const GroupLayer& f = fw[l];
    const GroupLayer& b = bw[s - l];
    const std::size_t lo = std::max(f.cols.lo, b.cols.lo), hi = std::min(f.cols.hi, b.cols.hi);
    std::size_t first = G, final = 0;
    for (std::size_t g = lo; g <= hi && lo <= hi; ++g)
      if (f.v[g - f.cols.lo] + b.v[g - b.cols.lo] <= limit) {
        first = std::min(first, g);
        final = g;
      }
    if (first < G)
      ranges[l] = {std::max(ranges[l].lo, groups.start(first)),
                   std::min(ranges[l].hi, groups.end(final) - 1)};
  }
}

}  // namespace

std::vector<IndexRange> optimal_level_ranges(const double* x, std::size_t n, std::size_t s,
                                             std::size_t group_size, std::size_t coarse_size) {
  DME_ASSERT(n >= 2 && s >= 2);
  std::vector<IndexRange> ranges(s + 1, IndexRange{0, n - 1});
  ranges[1] = {0, 0};
  ranges[s] = {n - 1, n - 1};
  if (s == 2) return ranges;
  const std::size_t g = group_size > 0 ? group_size : default_group_size(n, s);
  if (group_size == 0) coarse_size = default_coarse_size(n, s, g);
  // Every bound is a sum of at most s + 1 terms, each with a rounding error below a few ulps of
  // n·M² (M the largest |x|: every product and prefix sum in them is at most 2n·M²), and the
  // column minima of a Monge matrix evaluated with such errors are off by at most
  // (depth)·(that error): the tolerance takes ~4000 ulps of n·M² per level, still ~1e-8 of the
  // optimum on typical data.
  const double m = std::max(std::abs(x[0]), std::abs(x[n - 1]));
  const double tol = 1e-12 * static_cast<double>(s + 2) * static_cast<double>(n) * m * m;
  const Groups fine(x, n, g);
  if (coarse_size > g) refine(Groups(fine, n, coarse_size), n, s, tol, ranges);
  refine(fine, n, s, tol, ranges);
  return ranges;
}

}  // namespace dme::detail
