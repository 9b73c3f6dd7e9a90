// Timing helpers shared by the benchmark runners.
#pragma once

#include <algorithm>
#include <vector>

#include "dme/core/error.h"
#include "dme/core/timer.h"

namespace dme {

/// The median of v (the upper one for an even count). v must not be empty.
inline double median(std::vector<double> v) {
  DME_ASSERT(!v.empty());
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

/// Median wall time of `reps` calls of f, after one untimed warm-up call (page faults, caches).
template <class F>
double median_ms(int reps, F&& f) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    Timer timer;
    f();
    t.push_back(timer.elapsed_ms());
  }
  return median(std::move(t));
}

}  // namespace dme
