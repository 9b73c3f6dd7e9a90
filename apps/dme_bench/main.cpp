// dme-bench: single-process benchmarks of the dme kernels (rotation, solvers, rounding, codec,
// the whole compression pipeline). Each subcommand reports ratios against a baseline measured
// in the same run and checks its own results.
#include "subcommand.h"

int main(int argc, char** argv) {
  return dme::app::dispatch("dme-bench", "benchmarks of the dme kernels", argc, argv);
}
