// How the FWHT's sweeps are spread over threads (dme/core/parallel.h), and the split of a long
// chain's first column levels into two sweeps: target-independent helpers of rotation/fwht.cpp
// (and of its tests, which shrink the L2 size the split is decided by).
//
// Threads: the rows of a sweep, and the column panels, are independent and each is the same
// sequence of operations whoever runs it, so results are bit-identical for every thread count.
// Each worker notes extremes in its own accumulator, merged after (min and max are exact in any
// order).
#pragma once

#include <atomic>
#include <cstddef>
#include <type_traits>
#include <vector>

#include "dme/core/parallel.h"

#include <unistd.h>  // sysconf: the L2 size

namespace dme::detail {

// f(i, next, worker) for every i < count: the threads take contiguous spans of i (one each),
// next says whether i + 1 is in the same span (so prefetching it helps this thread rather than
// pulling lines another thread is writing).
template <class F>
void for_spans(std::size_t count, F&& f) {
  const std::size_t spans = parallel_workers(count);
  parallel_for(spans, [&](std::size_t k, unsigned worker) {
    const std::size_t begin = count * k / spans, end = count * (k + 1) / spans;
    for (std::size_t i = begin; i < end; ++i) f(i, i + 1 < end, worker);
  });
}

// bad |= row(i, next) for every row i < r.
template <class F>
bool for_rows(std::size_t r, F&& row) {
  std::atomic<bool> bad{false};
  for_spans(r, [&](std::size_t i, bool next, unsigned) {
    if (row(i, next)) bad.store(true, std::memory_order_relaxed);
  });
  return bad.load();
}

// f(i, next, epi) for every i < count (as for_spans); epi is `base` (an Epilogue) with each
// worker's own accumulator when base tracks extremes (merged into *base.acc after).
template <class Epi, class F>
void for_spans_tracked(std::size_t count, const Epi& base, F&& f) {
  using Acc = std::remove_pointer_t<decltype(base.acc)>;
  std::vector<Acc> accs(base.acc ? parallel_workers(count) : 0);
  for_spans(count, [&](std::size_t i, bool next, unsigned worker) {
    Epi epi = base;
    if (base.acc) epi.acc = &accs[worker];
    f(i, next, epi);
  });
  for (const Acc& a : accs) base.acc->add(a.lo, a.hi);
}

// panel(c0, next, epi) for every panel start c0 = 0, w, 2w, ... < c (for_spans_tracked).
template <class Epi, class F>
void for_panels(std::size_t c, std::size_t w, const Epi& base, F&& panel) {
  for_spans_tracked(c / w, base,
                    [&](std::size_t p, bool next, const Epi& epi) { panel(p * w, next, epi); });
}

// The core's L2 size in bytes (glibc's sysconf; 0 where unknown), or, when non-zero, the size
// a test set (to reach the grouped sweeps at lengths it can check quickly).
inline std::atomic<std::size_t>& fwht_l2_override() {
  static std::atomic<std::size_t> bytes{0};
  return bytes;
}
inline std::size_t fwht_l2_bytes() {
  if (const std::size_t o = fwht_l2_override().load(std::memory_order_relaxed)) return o;
  static const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
  return l2 > 0 ? static_cast<std::size_t>(l2) : 0;
}

// The rows per group of a chain's first row sweep (fwht_chain, rotation/fwht.cpp) over r rows
// whose column panels (r rows of panel_bytes) do not fit half the core's L2, or 0 (ungrouped).
// A panel of 256 rows of 2 KiB is the whole L2 of a Zen 3 (512 KiB), where it cannot stay
// between the column sweep's passes; half the Zen 4's 1 MiB and a quarter of the Xeon's 2 MiB,
// where it stays. Grouped, the first transform's column levels within each group of r / 8 rows
// are done as soon as those rows are (still in cache), and the column sweep does the top three
// across the 8 groups before the next transform's. Levels stay in their order: the same bits.
inline std::size_t fwht_row_group(std::size_t r, std::size_t panel_bytes) {
  const std::size_t l2 = fwht_l2_bytes();
  if (r < 16 || l2 == 0 || r * panel_bytes <= l2 / 2) return 0;
  return r / 8;
}

}  // namespace dme::detail
