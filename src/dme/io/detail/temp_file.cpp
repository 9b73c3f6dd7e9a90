#include "dme/io/detail/temp_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

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

}  // namespace

TempFile::TempFile(std::string target)
    : target_(std::move(target)), path_(temporary_path(target_)) {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

TempFile::~TempFile() {
  if (keep_) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

void TempFile::write(std::span<const unsigned char> bytes) {
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  DME_CHECK(fd >= 0, "cannot create '" << path_ << "': " << std::strerror(errno));
  std::size_t done = 0;
  int err = 0;
  while (done < bytes.size() && err == 0) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0)
      done += static_cast<std::size_t>(n);
    else if (n < 0 && errno != EINTR)
      err = errno;
  }
  // fsync: rename(2) alone does not order the data before the new name on every file system,
  // and a crash must not leave an empty file under the final name. close(2) reports deferred
  // errors on network file systems.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  DME_CHECK(err == 0, "cannot write " << bytes.size() << " bytes to '" << path_
                                      << "': " << std::strerror(err));
}

void TempFile::publish(bool no_clobber) {
  if (!no_clobber) {
    rename_to_target();
  } else if (::link(path_.c_str(), target_.c_str()) == 0) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  } else {
    const int err = errno;
    std::error_code ec;
    const bool appeared =
        err == EEXIST || (no_hard_links(err) && std::filesystem::exists(target_, ec));
    if (appeared) {
      keep_ = true;
      DME_THROW("'" << target_
                    << "' was created by someone else while the results were being "
                       "written; they are kept in '"
                    << path_ << "'");
    }
    DME_CHECK(no_hard_links(err),
              "cannot link '" << path_ << "' to '" << target_ << "': " << std::strerror(err));
    rename_to_target();
  }
  keep_ = true;  // it is the target now
  sync_directory(directory_of(target_));
}

void TempFile::rename_to_target() {
  DME_CHECK(std::rename(path_.c_str(), target_.c_str()) == 0,
            "cannot rename '" << path_ << "' to '" << target_ << "': " << std::strerror(errno));
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

}  // namespace dme::detail
