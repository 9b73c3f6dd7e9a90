#include "dme/core/mpi_helpers.h"

#include <cstring>
#include <utility>
#include <vector>

namespace dme::mpi {

void check(int code, const char* what) {
  if (code == MPI_SUCCESS) [[likely]]
    return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) len = 0;
  throw Error(std::string(what) + " failed: " + std::string(text, static_cast<size_t>(len)) +
                  " (MPI error code " + std::to_string(code) + ")",
              error_rank());
}

int comm_rank(MPI_Comm comm) {
  int r = 0;
  DME_MPI_CHECK(MPI_Comm_rank(comm, &r));
  return r;
}

int comm_size(MPI_Comm comm) {
  int n = 0;
  DME_MPI_CHECK(MPI_Comm_size(comm, &n));
  return n;
}

Environment::Environment(int* argc, char*** argv) {
  int initialized = 0;
  DME_MPI_CHECK(MPI_Initialized(&initialized));
  if (!initialized) {
    int provided = 0;
    DME_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    owns_ = true;
  }
  DME_MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  set_error_rank(comm_rank(MPI_COMM_WORLD));
}

Environment::~Environment() {
  if (!owns_) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

Comm::Comm(MPI_Comm parent) {
  // MPI_Initialized and MPI_Finalized may be called at any time; every other call here would
  // abort the process outside MPI_Init .. MPI_Finalize.
  int initialized = 0;
  int finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  DME_CHECK(initialized && !finalized,
            "MPI is " << (finalized ? "already finalized" : "not initialized")
                      << ": dme's collectives run between MPI_Init and MPI_Finalize");
  DME_CHECK(parent != MPI_COMM_NULL, "communicator is MPI_COMM_NULL");
  // On an intercommunicator a reduction combines the other group's vectors, not this one's:
  // the mean would be silently wrong, so refuse it.
  int inter = 0;
  DME_MPI_CHECK(MPI_Comm_test_inter(parent, &inter));
  DME_CHECK(!inter,
            "an intercommunicator is not supported: merge its two groups into one "
            "intracommunicator first (MPI_Intercomm_merge)");
  DME_MPI_CHECK(MPI_Comm_dup(parent, &comm_));
  DME_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  rank_ = comm_rank(comm_);
  size_ = comm_size(comm_);
}

Comm::~Comm() {
  release();
}

Comm::Comm(Comm&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)), rank_(other.rank_), size_(other.size_) {}

Comm& Comm::operator=(Comm&& other) noexcept {
  if (this != &other) {
    release();
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

void Comm::release() noexcept {
  if (comm_ == MPI_COMM_NULL) return;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Comm_free(&comm_);
  comm_ = MPI_COMM_NULL;
}

void broadcast_string(std::string& text, int root, MPI_Comm comm) {
  std::uint64_t len = text.size();
  DME_MPI_CHECK(MPI_Bcast(&len, 1, MPI_UINT64_T, root, comm));
  text.resize(len);
  if (len > 0) DME_MPI_CHECK(MPI_Bcast(text.data(), static_cast<int>(len), MPI_CHAR, root, comm));
}

std::string library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int len = 0;
  DME_MPI_CHECK(MPI_Get_library_version(text, &len));
  std::string s(text, static_cast<size_t>(len));
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == '\0' || s.back() == ' ' || s.back() == ',')) s.pop_back();
  return s;
}

bool identical_on_all_ranks(std::span<const float> v, MPI_Comm comm) {
  std::vector<float> root(v.begin(), v.end());
  DME_MPI_CHECK(MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_FLOAT, 0, comm));
  const int same = root.empty() || std::memcmp(root.data(), v.data(), v.size_bytes()) == 0;
  return allreduce(same, MPI_MIN, comm) == 1;
}

std::string processor_name() {
  char text[MPI_MAX_PROCESSOR_NAME] = {};
  int len = 0;
  DME_MPI_CHECK(MPI_Get_processor_name(text, &len));
  return std::string(text, static_cast<size_t>(len));
}

}  // namespace dme::mpi
