// The textbook FWHT (fwht.h): the definition every fast kernel in fwht.cpp matches bit for bit,
// and the scalar transform of vectors shorter than one SIMD vector.
#include <cstddef>

#include "dme/rotation/fwht.h"

namespace dme::detail {

template <class T>
void fwht_reference(T* x, std::size_t n) {
  for (std::size_t h = 1; h < n; h <<= 1)
    for (std::size_t i = 0; i < n; i += 2 * h)
      for (std::size_t j = i; j < i + h; ++j) {
        T a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
}

template void fwht_reference<float>(float*, std::size_t);
template void fwht_reference<double>(double*, std::size_t);

}  // namespace dme::detail
