#include "dme/io/detail/temp_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <thread>
#include <vector>

#include "dme/core/error.h"
#include "dme/io/results.h"

namespace dme::detail {
namespace {

std::string directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

/// Best effort: makes the new directory entry durable; some file systems refuse it.
void sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

bool no_hard_links(int err) {
  return err == EPERM || err == ENOTSUP || err == EOPNOTSUPP || err == ENOSYS;
}

// SIGINT/SIGTERM cleanup: the live temporary's path, in a buffer the handler may read.
char g_signal_path[4096];
volatile std::sig_atomic_t g_signal_path_set = 0;
struct sigaction g_previous[2];
constexpr int kSignals[2] = {SIGINT, SIGTERM};

extern "C" void remove_temporary_on_signal(int sig) {
  if (g_signal_path_set) ::unlink(g_signal_path);  // async-signal-safe
  // Restore what was there before (the default: end the process) and deliver the signal again.
  for (int i = 0; i < 2; ++i)
    if (kSignals[i] == sig) ::sigaction(sig, &g_previous[i], nullptr);
  ::raise(sig);
}

void watch_signals(const std::string& path) {
  if (path.size() >= sizeof g_signal_path) return;  // cannot be named safely: no cleanup
  std::memcpy(g_signal_path, path.c_str(), path.size() + 1);
  g_signal_path_set = 1;
  struct sigaction sa {};
  sa.sa_handler = remove_temporary_on_signal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 2; ++i) {
    struct sigaction old {};
    ::sigaction(kSignals[i], nullptr, &old);
    // A handler the program installed itself (not the default) stays in charge.
    if (old.sa_handler != SIG_DFL) continue;
    g_previous[i] = old;
    ::sigaction(kSignals[i], &sa, nullptr);
  }
}

void unwatch_signals() {
  for (int i = 0; i < 2; ++i) {
    struct sigaction cur {};
    ::sigaction(kSignals[i], nullptr, &cur);
    if (cur.sa_handler == remove_temporary_on_signal)
      ::sigaction(kSignals[i], &g_previous[i], nullptr);
  }
  g_signal_path_set = 0;
}

// Writes all of `bytes` to fd, flushes them to disk and closes fd; 0 or the first errno.
// fsync: rename(2) alone does not order the data before the new name on every file system, and
// a crash must not leave an empty file under the final name. close(2) reports deferred errors
// on network file systems.
int write_and_close(int fd, std::span<const unsigned char> bytes) {
  std::size_t done = 0;
  int err = 0;
  while (done < bytes.size() && err == 0) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0)
      done += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR)
      err = errno;
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

}  // namespace

TempFile::TempFile(std::string target)
    : target_(std::move(target)), path_(temporary_path(target_)) {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
  watch_signals(path_);
}

TempFile::~TempFile() {
  unwatch_signals();
  if (keep_) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void TempFile::write(std::span<const unsigned char> bytes) {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  DME_CHECK(fd >= 0, "cannot create '" << path_ << "': " << std::strerror(errno));
  const int err = write_and_close(fd, bytes);
  DME_CHECK(err == 0, "cannot write " << bytes.size() << " bytes to '" << path_
                                      << "': " << std::strerror(err));
}

void TempFile::publish(bool no_clobber) {
  if (!no_clobber) {
    rename_to_target();
    keep_ = true;  // it is the target now
    sync_directory(directory_of(target_));
  } else if (!publish_if_absent()) {
    keep_ = true;
    DME_THROW("'" << target_
                  << "' was created by someone else while the results were being "
                     "written; they are kept in '"
                  << path_ << "'");
  }
}

bool TempFile::publish_if_absent() {
  if (::link(path_.c_str(), target_.c_str()) == 0) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  } else {
    const int err = errno;
    std::error_code ec;
    if (err == EEXIST || (no_hard_links(err) && std::filesystem::exists(target_, ec))) return false;
    if (!no_hard_links(err)) {
      keep_ = true;  // the results are written: never lose them
      DME_THROW("cannot link '" << path_ << "' to '" << target_ << "': " << std::strerror(err)
                                << "; the results are kept in '" << path_ << "'");
    }
    rename_to_target();
  }
  keep_ = true;  // it is the target now
  sync_directory(directory_of(target_));
  return true;
}

std::optional<FileLock> FileLock::existing(const std::string& path, double timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      DME_CHECK(errno == ENOENT,
                "cannot open '" << path << "' to lock it: " << std::strerror(errno));
      return std::nullopt;
    }
    FileLock lock(fd);
    int err = 0;
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      err = errno;
      if (err == EINTR) continue;
      if (err != EWOULDBLOCK) break;
      DME_CHECK(std::chrono::steady_clock::now() < deadline,
                "'" << path << "' stayed locked by another writer for " << timeout_s
                    << " s; the results were not written");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      err = 0;
    }
    if (err != 0) {  // ENOLCK, EOPNOTSUPP...: a file system without flock
      std::fprintf(stderr,
                   "dme: warning: cannot lock '%s' (%s); concurrent writers of it are not "
                   "serialised\n",
                   path.c_str(), std::strerror(err));
      return lock;
    }
    // Granted: but a writer may have replaced the file meanwhile; then lock the new one.
    struct stat held {
    }, now{};
    const bool named = ::stat(path.c_str(), &now) == 0;
    if (!named && errno == ENOENT) return std::nullopt;
    if (named && ::fstat(fd, &held) == 0 && held.st_dev == now.st_dev && held.st_ino == now.st_ino)
      return lock;
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

void TempFile::rename_to_target() {
  if (std::rename(path_.c_str(), target_.c_str()) == 0) return;
  const int err = errno;
  keep_ = true;  // the results are written: never lose them
  DME_THROW("cannot rename '" << path_ << "' to '" << target_ << "': " << std::strerror(err)
                              << "; the results are kept in '" << path_ << "'");
}

void probe_writable(const std::string& target) {
  const std::string probe = temporary_path(target) + ".probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  const int err = errno;
  if (fd >= 0) {
    ::close(fd);
    ::unlink(probe.c_str());
    return;
  }
  DME_CHECK(err == EEXIST, "cannot write '" << target << "': cannot create files in directory '"
                                            << directory_of(target) << "': " << std::strerror(err));
  // EEXIST: a probe of a crashed process with our pid; creation works if it can be removed.
  DME_CHECK(::unlink(probe.c_str()) == 0, "cannot write '" << target << "': cannot remove '"
                                                           << probe
                                                           << "': " << std::strerror(errno));
}

std::string write_rescue_copy(const std::string& target, std::span<const unsigned char> bytes,
                              std::string& failures) {
  const std::filesystem::path name(target);
  const std::string file =
      name.stem().string() + ".rescued." + std::to_string(::getpid()) + name.extension().string();
  const char* tmpdir = std::getenv("TMPDIR");
  std::vector<std::string> dirs = {tmpdir && *tmpdir ? tmpdir : "/tmp", "."};
  std::error_code ec;
  const auto own = std::filesystem::weakly_canonical(directory_of(target), ec);
  for (const std::string& dir : dirs) {
    std::error_code ec2;
    if (!ec && std::filesystem::weakly_canonical(dir, ec2) == own) continue;  // failed already
    const std::string path = (std::filesystem::path(dir) / file).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int err = fd >= 0 ? write_and_close(fd, bytes) : errno;
    if (err == 0) return path;
    if (fd >= 0) ::unlink(path.c_str());
    failures += (failures.empty() ? "" : "; ") + path + ": " + std::strerror(err);
  }
  return {};
}

}  // namespace dme::detail
