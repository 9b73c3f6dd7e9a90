// `make_fault_inputs --groups FILE` prints the root groups of a results file, one per line.
// `make_fault_inputs DIRECTORY` writes the HDF5 input file of the fault-injection suite
// (run_faults.sh):
//   faults.h5: nan (4 x 4096, a NaN at row 1, index 5), len_{0..3} (rank 1's 4095 long),
//              miss_{0,2,3} (no miss_1), one_row (1 x 4096), big64 (float64, -1e300 at index 3),
//              zero (4096 zeros), huge (4 x 4096 float32, |x| in [1e38, FLT_MAX], 8 at FLT_MAX).
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "dme/core/error.h"
#include "dme/io/hdf5.h"
#include "dme/io/results.h"

int main(int argc, char** argv) {
  namespace h5 = dme::h5;
  if (argc == 3 && std::string(argv[1]) == "--groups") {
    try {
      for (const auto& run : dme::read_results(argv[2]).runs) std::printf("%s\n", run.name.c_str());
    } catch (const dme::Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return 1;
    }
    return 0;
  }
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIRECTORY | --groups FILE\n", argv[0]);
    return 2;
  }
  constexpr hsize_t d = 4096;
  try {
    h5::File file = h5::File::create(std::string(argv[1]) + "/faults.h5");
    {
      h5::Group root = h5::Group::root(file);
      const hsize_t one[1] = {d}, short_one[1] = {d - 1}, four[2] = {4, d}, single[2] = {1, d};
      std::vector<float> ones(4 * d, 1.0f);
      ones[d + 5] = std::nanf("");
      h5::Dataset::create(root, "nan", four, std::span<const float>(ones));
      const std::vector<float> row(d, 2.0f);
      for (int r = 0; r < 4; ++r) {
        const auto len = std::span<const float>(row).first(r == 1 ? d - 1 : d);
        h5::Dataset::create(root, "len_" + std::to_string(r), r == 1 ? short_one : one, len);
        if (r != 1) h5::Dataset::create(root, "miss_" + std::to_string(r), one, std::span(row));
      }
      h5::Dataset::create(root, "one_row", single, std::span<const float>(row));
      std::vector<double> big(d, 1.0);
      big[3] = -1e300;
      h5::Dataset::create(root, "big64", one, std::span<const double>(big));
      h5::Dataset::create(root, "zero", one, std::span<const float>(std::vector<float>(d, 0.0f)));
      std::mt19937_64 gen(5);
      std::uniform_real_distribution<float> mag(1e38f, std::numeric_limits<float>::max());
      std::vector<float> huge(4 * d);
      for (auto& v : huge) v = (gen() & 1 ? -1.0f : 1.0f) * mag(gen);
      for (hsize_t r = 0; r < 4; ++r)
        for (hsize_t i = 0; i < 8; ++i) huge[r * d + i] = std::numeric_limits<float>::max();
      h5::Dataset::create(root, "huge", four, std::span<const float>(huge));
    }
    file.close();
  } catch (const dme::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
