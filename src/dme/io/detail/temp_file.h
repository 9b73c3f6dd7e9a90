// A temporary file beside its target that becomes the target atomically (results writer).
#pragma once

#include <span>
#include <string>

namespace dme::detail {

class TempFile {
 public:
  /// Names the temporary temporary_path(target) and removes a stale one left by an earlier
  /// process that had the same pid.
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

 private:
  void rename_to_target();

  std::string target_;
  std::string path_;
  bool keep_ = false;
};

/// Creates and removes a file named like the temporary of `target`, to learn before any work
/// is done whether files can be created beside it; throws dme::Error with the reason.
void probe_writable(const std::string& target);

}  // namespace dme::detail
