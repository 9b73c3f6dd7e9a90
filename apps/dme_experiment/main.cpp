// dme-experiment: the MPI experiments (run under mpirun/srun); results as tables and HDF5.
#include "dme/core/mpi_helpers.h"
#include "subcommand.h"

int main(int argc, char** argv) {
  dme::mpi::Environment env(&argc, &argv);
  return dme::app::dispatch("dme-experiment", "distributed mean estimation experiments", argc,
                            argv);
}
