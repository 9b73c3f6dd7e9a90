// dme: distributed mean estimation over MPI. The one header a C++ user includes:
//
//   #include <dme/dme.h>
//   dme::Options opt;  opt.s = 16;  opt.seed = 42;       // 4 bits per coordinate, QUIVER levels
//   dme::MeanEstimator est(MPI_COMM_WORLD, opt);         // collective
//   dme::Report r = est.estimate(local, mean);            // collective, once per round
//
// and links the CMake target dme::dme (find_package(dme CONFIG); examples/ has a whole program).
#pragma once

#include "dme/collective/compression.h"     // Compression: the seam of schemes and backends
#include "dme/collective/mean_estimator.h"  // MeanEstimator
#include "dme/collective/options.h"         // Options, Exchange, Rounding, Backend
#include "dme/collective/report.h"          // Report, PhaseTimes: bytes and time per phase
#include "dme/core/error.h"                 // dme::Error, thrown on bad input on every rank
#include "dme/core/simd.h"                  // simd_target, set_simd_target
#include "dme/quantization/solver.h"        // Solver, solve_levels
#include "dme/version.h"                    // DME_VERSION, DME_GIT_COMMIT
