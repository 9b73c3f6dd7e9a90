#include "dme/quantization/detail/level_bounds.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "dme/core/error.h"
#include "dme/quantization/detail/compensated_sum.h"
#include "dme/quantization/detail/smawk.h"

namespace dme::detail {
namespace {

// About this many groups: the bounds lose the error of the points in the groups that hold
// levels (a fraction ~ s / G of it) while the group DPs cost O(s·G).
constexpr std::size_t kGroups = 4096;

constexpr double kInf = std::numeric_limits<double>::infinity();

class Groups {
 public:
  // Groups of at most g points and, where the data are sparse (the tails), at most 1/kGroups of
  // the range wide: a group that holds a level loses its error from the bound, so no group may
  // hold much of it.
  Groups(const ChordPoint* p, std::size_t n, std::size_t g) : p_(p) {
    const double width = (p[n - 1].x - p[0].x) / static_cast<double>(kGroups);
    starts_.push_back(0);
    for (std::size_t b = 0; b < n;) {
      std::size_t e = std::min(n, b + g);
      if (p[e - 1].x - p[b].x > width) {
        // The first point more than `width` above p[b] ends the group (at least one point).
        const double top = p[b].x + width;
        std::size_t lo = b + 1, hi = e - 1;  // p[hi].x > top
        while (lo < hi) {
          const std::size_t mid = lo + (hi - lo) / 2;
          if (p[mid].x > top)
            hi = mid;
          else
            lo = mid + 1;
        }
        e = lo;
      }
      starts_.push_back(e);
      b = e;
    }
    count_ = starts_.size() - 1;
    lo_.resize(count_);
    hi_.resize(count_);
    s1_.resize(count_ + 1);
    s2_.resize(count_ + 1);
    CompensatedSum c1, c2;
    s1_[0] = s2_[0] = 0;
    for (std::size_t q = 0; q < count_; ++q) {
      const std::size_t b = start(q), e = end(q);
      lo_[q] = p[b].x;
      hi_[q] = p[e - 1].x;
      // Four chains: the sums of one group are short, their rounding negligible next to the
      // tolerance; the running sums over groups are compensated.
      double a[4] = {0, 0, 0, 0}, sq[4] = {0, 0, 0, 0};
      std::size_t t = b;
      for (; t + 4 <= e; t += 4)
        for (int i = 0; i < 4; ++i) {
          const double x = p[t + i].x;
          a[i] += x;
          sq[i] += x * x;
        }
      for (; t < e; ++t) {
        a[0] += p[t].x;
        sq[0] += p[t].x * p[t].x;
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
  /// The group of candidate t.
  std::size_t group_of(std::size_t t) const {
    return static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), t) -
                                    starts_.begin()) -
           1;
  }

  /// L(a, b), a <= b: the error of the points of groups a+1 .. b-1 within [hi(a), lo(b)].
  double bound(std::size_t a, std::size_t b) const {
    if (b <= a + 1) return 0.0;
    return interval_sum(a + 1, b, hi_[a], lo_[b]);
  }

  /// The true error of the points strictly between candidates k < j.
  double error(std::size_t k, std::size_t j) const {
    const double lo = p_[k].x, hi = p_[j].x;
    double e = 0;
    std::size_t t = k + 1;
    while (t < j) {
      const std::size_t q = group_of(t);
      if (t == start(q) && end(q) <= j) {       // whole groups by their sums
        const std::size_t q_end = group_of(j);  // groups q .. q_end-1 lie inside (k, j)
        e += interval_sum(q, q_end, lo, hi);
        t = start(q_end);
        continue;
      }
      const std::size_t stop = std::min(end(q), j);
      for (; t < stop; ++t) e += (hi - p_[t].x) * (p_[t].x - lo);
    }
    return e;
  }

 private:
  // Σ (hi - x)(x - lo) over the points of groups [q0, q1), from the group sums.
  double interval_sum(std::size_t q0, std::size_t q1, double lo, double hi) const {
    const double count = static_cast<double>(start(q1) - start(q0));
    const double s1 = s1_[q1] - s1_[q0], s2 = s2_[q1] - s2_[q0];
    return std::max(0.0, (lo + hi) * s1 - lo * hi * count - s2);
  }

  const ChordPoint* p_;
  std::size_t count_ = 0;
  std::vector<std::size_t> starts_;  // size count_ + 1
  std::vector<double> lo_, hi_, s1_, s2_;
};

}  // namespace

std::vector<IndexRange> optimal_level_ranges(const ChordPoint* p, std::size_t n, std::size_t s,
                                             std::size_t group_size) {
  DME_ASSERT(n >= 2 && s >= 2);
  std::vector<IndexRange> ranges(s + 1, IndexRange{0, n - 1});
  ranges[1] = {0, 0};
  ranges[s] = {n - 1, n - 1};
  if (s == 2) return ranges;
  const std::size_t g =
      group_size > 0 ? group_size : std::max<std::size_t>(1, (n + kGroups - 1) / kGroups);
  const Groups groups(p, n, g);
  const std::size_t G = groups.count();
  Smawk smawk;

  // Forward: fl[l][q] for l = 2 .. s (fl[s][G-1] bounds the optimum), with argmins for the
  // group path that gives U.
  std::vector<std::vector<double>> fl(s + 1);
  std::vector<std::vector<std::uint32_t>> from(s + 1);
  fl[2].resize(G);
  for (std::size_t q = 0; q < G; ++q) fl[2][q] = groups.bound(0, q);
  for (std::size_t l = 3; l <= s; ++l) {
    fl[l].resize(G);
    from[l].resize(G);
    const std::vector<double>& prev = fl[l - 1];
    smawk.column_minima(
        G, G,
        [&](std::size_t k, std::size_t j) { return k > j ? kInf : prev[k] + groups.bound(k, j); },
        from[l].data(), fl[l].data());
  }
  // Backward: bl[r][q] for r = 1 .. s - 2, as a forward problem on reversed group indices.
  std::vector<std::vector<double>> bl(s - 1);
  bl[1].resize(G);
  for (std::size_t q = 0; q < G; ++q) bl[1][q] = groups.bound(q, G - 1);
  std::vector<std::uint32_t> scratch(G);
  std::vector<double> reversed(G);
  for (std::size_t r = 2; r <= s - 2; ++r) {
    const std::vector<double>& prev = bl[r - 1];
    smawk.column_minima(
        G, G,
        [&](std::size_t rk, std::size_t rj) {
          // row rk is group G-1-rk (the later level), column rj is group G-1-rj
          return rk > rj ? kInf : prev[G - 1 - rk] + groups.bound(G - 1 - rj, G - 1 - rk);
        },
        scratch.data(), reversed.data());
    bl[r].assign(reversed.rbegin(), reversed.rend());
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

  // Every bound above is a sum of at most s + 1 group or interval sums, each with a rounding
  // error below a few ulps of n·M² (M the largest |x|), and the column minima of a Monge
  // matrix evaluated with such errors are off by at most (depth)·(that error): the tolerance
  // takes ~4000 ulps of n·M² per level, which is still ~1e-8 of the optimum on typical data.
  const double m = std::max(std::abs(p[0].x), std::abs(p[n - 1].x));
  const double tol = 1e-12 * static_cast<double>(s + 2) * static_cast<double>(n) * m * m;
  const double limit = upper + tol;
  if (!std::isfinite(limit)) return ranges;
  for (std::size_t l = 2; l < s; ++l) {
    const std::vector<double>& f = fl[l];
    const std::vector<double>& b = bl[s - l];
    std::size_t first = G, last = 0;
    for (std::size_t g2 = 0; g2 < G; ++g2)
      if (f[g2] + b[g2] <= limit) {
        first = std::min(first, g2);
        last = g2;
      }
    if (first < G) ranges[l] = {groups.start(first), groups.end(last) - 1};
  }
  return ranges;
}

}  // namespace dme::detail
