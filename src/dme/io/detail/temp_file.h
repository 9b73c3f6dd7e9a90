// A temporary file beside its target that becomes the target atomically (results writer).
#pragma once

#include <optional>
#include <span>
#include <string>

namespace dme::detail {

class TempFile {
 public:
  /// Names the temporary temporary_path(target) and removes a stale one left by an earlier
  /// process that had the same pid. While it lives, SIGINT and SIGTERM remove the temporary
  /// before the process ends as the signal's default action says (one TempFile at a time).
  explicit TempFile(std::string target);
  /// Removes the temporary unless it was published (or deliberately kept).
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const noexcept { return path_; }

  /// Writes `bytes` as the temporary's whole content and flushes it to disk (fsync).
  void write(std::span<const unsigned char> bytes);

  /// Makes the written temporary the target. no_clobber: fail if the target
  /// exists (hard link then unlink, atomic; a file system without hard links falls back to a
  /// check then rename). Otherwise rename(2) replaces the target atomically. When the target
  /// appeared since the caller checked it, the temporary is kept, so the results are not lost,
  /// and the error names it.
  void publish(bool no_clobber);

  /// Makes the written temporary the target only if the target does not exist (atomic where
  /// the file system has hard links); returns false, and leaves the temporary to the
  /// destructor, when it exists.
  bool publish_if_absent();

  /// The temporary will outlive this object (its path is named in an error).
  void keep() noexcept { keep_ = true; }

 private:
  void rename_to_target();

  std::string target_;
  std::string path_;
  bool keep_ = false;
};

/// An exclusive flock(2) on an existing file, held until destruction. Writers that replace the
/// file by rename take it first, so that appends from concurrent processes serialise: the lock
/// is retaken when the path names another file by the time it is granted.
class FileLock {
 public:
  /// Locks `path`; std::nullopt when it does not exist. Waits for another holder up to
  /// `timeout_s`, then throws dme::Error. A file system that refuses locks gives an unlocked
  /// FileLock and a warning on stderr.
  static std::optional<FileLock> existing(const std::string& path, double timeout_s = 120);
  ~FileLock();
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

/// Creates and removes a file named like the temporary of `target`, to learn before any work
/// is done whether files can be created beside it; throws dme::Error with the reason.
void probe_writable(const std::string& target);

/// Writes `bytes` to a new file named after `target` (`<stem>.rescued.<pid><ext>`) in $TMPDIR
/// (else /tmp), else in the working directory, skipping the target's own directory: results
/// that cannot be written where asked (a full disk, a quota) are saved there instead. Returns
/// the path written, or "" with each attempt's reason appended to `failures`.
std::string write_rescue_copy(const std::string& target, std::span<const unsigned char> bytes,
                              std::string& failures);

}  // namespace dme::detail
