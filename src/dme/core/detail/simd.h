// Which vector kernels this build compiles. The build uses -march=native; without AVX-512 the
// kernels (Philox, rounding, histograms) fall back to scalar code with identical results.
#pragma once

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__)
#define DME_HAVE_AVX512 1
// GCC 12 flags the _mm512_undefined_*() idiom inside its own intrinsics (GCC bug 105593).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#else
#define DME_HAVE_AVX512 0
#endif
