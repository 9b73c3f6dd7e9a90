// Move-only RAII handles over the HDF5 C API (serial HDF5 1.10 or later).
//
// Every H5* call is checked: a failure throws dme::Error naming the operation, the object
// ("file.h5:/group/dataset") and the text of HDF5's error stack. HDF5's own automatic printing
// of that stack is switched off for the whole process the first time a file is opened or
// created here (as h5py does), because the text is carried by the exception instead.
// HDF5 is not thread-safe in the builds used here: use these handles from one thread.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dme/io/attr_value.h"

namespace dme::h5 {

/// Turns off HDF5's automatic error printing (idempotent).
void silence_error_printing();

/// The current HDF5 error stack as one line ("H5Fopen(): unable to open file; ..."), then
/// cleared. Empty when the stack is empty.
std::string error_stack_text();

/// Throws dme::Error "<operation> failed for <object>: <stack>" when status < 0.
herr_t check(herr_t status, std::string_view operation, std::string_view object);
/// Same for calls returning an identifier (hid_t, negative on failure).
hid_t check_id(hid_t id, std::string_view operation, std::string_view object);

/// Owns one identifier and closes it with the matching H5*close. Destructors ignore close
/// errors (they cannot throw); use File::close() where a failed close must be reported.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);

  Handle() = default;
  Handle(hid_t id, Closer closer) noexcept : id_(id), closer_(closer) {}
  ~Handle();
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }
  /// Closes now; returns the close status (0 when there was nothing to close).
  herr_t reset() noexcept;
  /// Gives up ownership without closing; returns the identifier.
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

class Dataspace : public Handle {
 public:
  static Dataspace scalar();
  /// A simple dataspace of the given extents (a zero extent is allowed: an empty array).
  static Dataspace simple(std::span<const hsize_t> dims);
  /// Takes ownership of `id`, returned by `operation` (H5Aget_space, H5Dget_space) on `object`.
  static Dataspace adopt(hid_t id, std::string_view operation, std::string_view object);

  bool is_scalar() const;
  std::vector<hsize_t> dims() const;
  hsize_t element_count() const;
  /// Selects the block starting at `start` of extents `count` (both of size rank).
  void select_block(std::span<const hsize_t> start, std::span<const hsize_t> count);

 private:
  explicit Dataspace(hid_t id) noexcept : Handle(id, &H5Sclose) {}
};

class Datatype : public Handle {
 public:
  /// Variable-length UTF-8 string (h5py reads it as str).
  static Datatype utf8_string();
  static Datatype adopt(hid_t id, std::string_view operation, std::string_view object);

 private:
  explicit Datatype(hid_t id) noexcept : Handle(id, &H5Tclose) {}
};

class PropList : public Handle {
 public:
  /// H5Pcreate(cls), e.g. H5P_FILE_ACCESS.
  static PropList create(hid_t cls);
  static PropList adopt(hid_t id, std::string_view operation, std::string_view object);

 private:
  explicit PropList(hid_t id) noexcept : Handle(id, &H5Pclose) {}
};

/// Anything that carries attributes: a file (its root group), a group or a dataset.
class Location : public Handle {
 public:
  /// "file.h5:/group/name", used in error messages.
  std::string where() const { return file_ + ":" + path_; }
  const std::string& file_name() const noexcept { return file_; }
  /// Path inside the file ("/" for a file's root).
  const std::string& path() const noexcept { return path_; }
  /// Path inside the file of child `name`.
  std::string child_path(std::string_view name) const;

  std::vector<std::string> attribute_names() const;
  bool has_attribute(std::string_view name) const;
  /// Creates the attribute; one that already exists is an error (attributes are never
  /// overwritten).
  void write_attribute(std::string_view name, const AttrValue& value);
  /// Unsigned 64-bit values (seeds), as a 1-D attribute of H5T_STD_U64LE.
  void write_attribute(std::string_view name, std::span<const std::uint64_t> values);
  /// Integers of any width, reals and strings (variable or fixed length), scalar or 1-D.
  AttrValue read_attribute(std::string_view name) const;

 protected:
  Location() = default;
  Location(hid_t id, Closer closer, std::string file, std::string path) noexcept
      : Handle(id, closer), file_(std::move(file)), path_(std::move(path)) {}

 private:
  std::string file_;
  std::string path_;
};

class File : public Location {
 public:
  /// Creates (truncating) a file whose root group records the creation order of its links.
  static File create(const std::string& path);
  static File open(const std::string& path, bool writable);
  /// A file built in memory (HDF5 core driver, no backing store) and named `name`: nothing
  /// touches the disk; the caller writes image() out. Writers use this because HDF5 1.10
  /// cannot recover from a failed write to disk (the failed file stays open and crashes the
  /// library at exit), whereas a failed write of an image is an ordinary error.
  static File create_in_memory(const std::string& name);
  /// Loads the file at `path` into memory, writable; changes never reach `path`.
  static File open_in_memory(const std::string& path);
  /// True when `path` is a readable HDF5 file; false for any other file; throws for a
  /// path that cannot be examined.
  static bool is_hdf5(const std::string& path);

  /// Closes and reports a failure (data that could not be flushed). Every group, dataset and
  /// attribute opened from this file must be closed first (the file is opened with
  /// H5F_CLOSE_SEMI, so a forgotten handle is an error instead of an unflushed file).
  void close();

  /// The bytes of the file as it is now (flushed first).
  std::vector<unsigned char> image() const;
  /// Throws dme::Error unless `bytes` open as an HDF5 file. HDF5 1.10 writes a wrong checksum
  /// into images of files with superblock version 2 or 3 (not ours, but possibly a file being
  /// appended to), and such an image must not replace a good file.
  static void check_image(std::span<const unsigned char> bytes, const std::string& name);

 private:
  using Location::Location;
};

class Group : public Location {
 public:
  /// A new group that records the creation order of its links.
  static Group create(const Location& parent, std::string_view name);
  static Group open(const Location& parent, std::string_view name);
  /// The root group of a file.
  static Group root(const File& file);

  bool has_child(std::string_view name) const;
  /// Names of the links of this group, in creation order when it was recorded, else by name.
  std::vector<std::string> child_names() const;
  /// H5I_GROUP, H5I_DATASET or H5I_DATATYPE for an existing child.
  H5I_type_t child_type(std::string_view name) const;

 private:
  using Location::Location;
};

class Dataset : public Location {
 public:
  /// A new float64 dataset of shape dims holding `values` (row-major, size product(dims)).
  static Dataset create(const Location& parent, std::string_view name,
                        std::span<const hsize_t> dims, std::span<const double> values);
  /// A new float32 dataset (used by tests and tools that write input vectors).
  static Dataset create(const Location& parent, std::string_view name,
                        std::span<const hsize_t> dims, std::span<const float> values);
  /// Opens a dataset by name or path relative to `parent` ("inputs/x").
  static Dataset open(const Location& parent, std::string_view name);

  std::vector<hsize_t> dims() const;
  /// The whole dataset converted to double (any integer or real type), size product(dims).
  std::vector<double> read_doubles() const;
  /// The block at `start` of extents `count` converted to float, size product(count).
  std::vector<float> read_floats(std::span<const hsize_t> start,
                                 std::span<const hsize_t> count) const;
  /// The same block converted to double.
  std::vector<double> read_doubles(std::span<const hsize_t> start,
                                   std::span<const hsize_t> count) const;

 private:
  using Location::Location;
};

}  // namespace dme::h5
