// Inputs shared by the rotation tests.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace dme::test {

/// n standard normal draws from seed, as T.
template <class T>
std::vector<T> random_vector(std::size_t n, unsigned seed) {
  std::mt19937_64 g(seed);
  std::normal_distribution<double> nd;
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(nd(g));
  return v;
}

}  // namespace dme::test
