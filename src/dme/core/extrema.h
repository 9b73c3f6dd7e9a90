// The smallest and largest value of a vector: the one (min, max) pair of dme, found by the
// rotation's last sweep, the solvers' input scan and the device scan alike.
#pragma once

namespace dme {

template <class T>
struct Extrema {
  T min{}, max{};
};

}  // namespace dme
