#include "dme/core/agree.h"

#include <climits>

#include "dme/core/mpi_helpers.h"

namespace dme::mpi {

void raise_everywhere(int failing_rank, const std::string& my_message, MPI_Comm comm) {
  std::string text = comm_rank(comm) == failing_rank ? my_message : std::string();
  broadcast_string(text, failing_rank, comm);
  throw Error(text, failing_rank, /*agreed=*/true);
}

void agree_or_throw(const std::optional<std::string>& local_error, MPI_Comm comm) {
  const int mine = local_error ? comm_rank(comm) : INT_MAX;
  int lowest = INT_MAX;
  DME_MPI_CHECK(MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, comm));
  if (lowest != INT_MAX) raise_everywhere(lowest, local_error ? *local_error : std::string(), comm);
}

}  // namespace dme::mpi
