// A sum in double in a fixed order, the same on every run, thread count and machine.
#pragma once

#include <cstddef>

namespace dme {

/// Σ_i term(i) for i < n in double, in 8 interleaved partial sums (independent chains of adds
/// that the compiler can overlap; a fixed order, so the same on every run and machine).
template <class Term>
double ordered_sum(std::size_t n, Term term) {
  double part[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (std::size_t l = 0; l < 8; ++l) part[l] += term(i + l);
  for (std::size_t l = 0; i < n; ++i, ++l) part[l] += term(i);
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

}  // namespace dme
