// Average one float vector per rank with 4 bits per coordinate, and compare with the exact mean.
//   mpirun -np 4 ./average_vectors [d]
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <dme/dme.h>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  const std::size_t d = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  std::vector<float> local(d), mean(d), exact(d);
  for (std::size_t i = 0; i < d; ++i) local[i] = std::sin(0.001f * i * (rank + 1)) + 0.1f * rank;

  int status = 0;
  try {
    dme::Options options;  // 16 levels (4 bits), QUIVER-approximate levels, 2 shared RHTs
    options.seed = 42;     // the same on every rank: same seed, same ranks, same result
    dme::MeanEstimator estimator(MPI_COMM_WORLD, options);
    const dme::Report report = estimator.estimate(local, mean);

    MPI_Allreduce(local.data(), exact.data(), static_cast<int>(d), MPI_FLOAT, MPI_SUM,
                  MPI_COMM_WORLD);
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < d; ++i) {
      exact[i] /= static_cast<float>(ranks);
      err += (mean[i] - exact[i]) * double(mean[i] - exact[i]);
      norm += exact[i] * double(exact[i]);
    }
    if (rank == 0)
      std::printf("dme %s: %d ranks, d = %zu: %.2f bits per coordinate (%.1fx fewer bytes than "
                  "float32), NMSE %.2e, SIMD %s\n",
                  DME_VERSION, ranks, d, report.bits_per_coordinate, report.compression_ratio,
                  err / norm, dme::simd_target().c_str());
  } catch (const dme::Error& e) {  // the same error on every rank
    if (rank == 0) std::fprintf(stderr, "average_vectors: %s\n", e.what());
    status = 1;
  }
  MPI_Finalize();
  return status;
}
