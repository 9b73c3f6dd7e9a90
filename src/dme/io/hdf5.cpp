#include "dme/io/hdf5.h"

#include <unistd.h>

#include <mutex>
#include <numeric>
#include <utility>

#include "dme/core/error.h"

namespace dme::h5 {
namespace {

herr_t collect_frame(unsigned /*n*/, const H5E_error2_t* frame, void* data) {
  auto* text = static_cast<std::string*>(data);
  try {
    if (!text->empty()) *text += "; ";
    *text += frame->func_name ? frame->func_name : "?";
    *text += "(): ";
    *text += frame->desc ? frame->desc : "";
  } catch (...) {
    return -1;  // an exception must not cross HDF5's C frames
  }
  return 0;
}

[[noreturn]] void fail(std::string_view operation, std::string_view object) {
  const std::string stack = error_stack_text();
  DME_THROW(operation << " failed for " << object << (stack.empty() ? "" : ": ") << stack);
}

hsize_t product(std::span<const hsize_t> dims) {
  return std::accumulate(dims.begin(), dims.end(), hsize_t{1}, std::multiplies<>());
}

/// File access: a close is refused while objects are open (H5F_CLOSE_SEMI) instead of
/// silently leaving the file open and unflushed. The default format bounds are kept (superblock
/// version 0, readable by every HDF5): H5Fget_file_image of HDF5 1.10 corrupts the checksum of
/// the newer superblocks, and the object headers that need the newer format (large attributes)
/// get it from track_creation_order.
PropList file_access(bool writable, bool in_memory = false) {
  PropList fapl = PropList::create(H5P_FILE_ACCESS);
  if (in_memory)
    check(H5Pset_fapl_core(fapl.get(), std::size_t{1} << 20, /*backing_store=*/false),
          "H5Pset_fapl_core", "a file access list");
  check(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_SEMI), "H5Pset_fclose_degree",
        "a file access list");
#if H5_VERSION_GE(1, 12, 1) || (H5_VERSION_GE(1, 10, 7) && !H5_VERSION_GE(1, 12, 0))
  // Readers, and in-memory copies that never write back, take no lock: every rank may open
  // the same input file on a parallel file system that refuses flock, and dme's writers
  // replace files by rename rather than writing them in place.
  if (in_memory || !writable)
    check(H5Pset_file_locking(fapl.get(), false, true), "H5Pset_file_locking",
          "a file access list");
#endif
  return fapl;
}

/// Records link and attribute creation order (groups list runs in the order they were
/// written). Tracking it also gives the object a version 2 header, whose dense attribute
/// storage holds attributes above the 64 KiB of a version 1 header.
void track_creation_order(const PropList& plist, bool links) {
  constexpr unsigned kFlags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
  if (links)
    check(H5Pset_link_creation_order(plist.get(), kFlags), "H5Pset_link_creation_order",
          "a creation property list");
  check(H5Pset_attr_creation_order(plist.get(), kFlags), "H5Pset_attr_creation_order",
        "a creation property list");
}

template <class T>
void write_all(hid_t dataset, hid_t mem_type, std::span<const T> values, const std::string& where) {
  if (values.empty()) return;
  check(H5Dwrite(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "H5Dwrite",
        where);
}

}  // namespace

void silence_error_printing() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

std::string error_stack_text() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, &collect_frame, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

herr_t check(herr_t status, std::string_view operation, std::string_view object) {
  if (status < 0) fail(operation, object);
  return status;
}

hid_t check_id(hid_t id, std::string_view operation, std::string_view object) {
  if (id < 0) fail(operation, object);
  return id;
}

// ---- Handle ---------------------------------------------------------------------------------

Handle::~Handle() {
  if (reset() < 0) H5Eclear2(H5E_DEFAULT);
}

Handle::Handle(Handle&& other) noexcept
    : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    if (reset() < 0) H5Eclear2(H5E_DEFAULT);
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    closer_ = other.closer_;
  }
  return *this;
}

herr_t Handle::reset() noexcept {
  herr_t status = 0;
  if (id_ >= 0 && closer_ != nullptr) status = closer_(id_);
  id_ = H5I_INVALID_HID;
  return status;
}

// ---- Dataspace, Datatype, PropList ----------------------------------------------------------

Dataspace Dataspace::scalar() {
  return Dataspace(check_id(H5Screate(H5S_SCALAR), "H5Screate", "a scalar dataspace"));
}

Dataspace Dataspace::simple(std::span<const hsize_t> dims) {
  DME_ASSERT(!dims.empty() && dims.size() <= H5S_MAX_RANK);
  return Dataspace(check_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                            "H5Screate_simple", "a simple dataspace"));
}

Dataspace Dataspace::adopt(hid_t id, std::string_view operation, std::string_view object) {
  return Dataspace(check_id(id, operation, object));
}

bool Dataspace::is_scalar() const {
  return H5Sget_simple_extent_type(get()) == H5S_SCALAR;
}

std::vector<hsize_t> Dataspace::dims() const {
  const int rank = H5Sget_simple_extent_ndims(get());
  check(rank, "H5Sget_simple_extent_ndims", "a dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0)
    check(H5Sget_simple_extent_dims(get(), dims.data(), nullptr), "H5Sget_simple_extent_dims",
          "a dataspace");
  return dims;
}

hsize_t Dataspace::element_count() const {
  const hssize_t n = H5Sget_simple_extent_npoints(get());
  check(n < 0 ? -1 : 0, "H5Sget_simple_extent_npoints", "a dataspace");
  return static_cast<hsize_t>(n);
}

void Dataspace::select_block(std::span<const hsize_t> start, std::span<const hsize_t> count) {
  DME_ASSERT(start.size() == count.size());
  check(H5Sselect_hyperslab(get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        "H5Sselect_hyperslab", "a dataspace");
}

Datatype Datatype::utf8_string() {
  Datatype type(check_id(H5Tcopy(H5T_C_S1), "H5Tcopy", "the C string type"));
  check(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size", "a string type");
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset", "a string type");
  return type;
}

Datatype Datatype::adopt(hid_t id, std::string_view operation, std::string_view object) {
  return Datatype(check_id(id, operation, object));
}

PropList PropList::create(hid_t cls) {
  return PropList(check_id(H5Pcreate(cls), "H5Pcreate", "a property list"));
}

PropList PropList::adopt(hid_t id, std::string_view operation, std::string_view object) {
  return PropList(check_id(id, operation, object));
}

// ---- Location, File -------------------------------------------------------------------------

std::string Location::child_path(std::string_view name) const {
  std::string path = path_;
  if (path.empty() || path.back() != '/') path += '/';
  path += name;
  return path;
}

File File::create(const std::string& path) {
  silence_error_printing();
  PropList fcpl = PropList::create(H5P_FILE_CREATE);
  track_creation_order(fcpl, /*links=*/true);
  PropList fapl = file_access(/*writable=*/true);
  const hid_t id =
      check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), "H5Fcreate", path);
  return File(id, &H5Fclose, path, "/");
}

File File::open(const std::string& path, bool writable) {
  silence_error_printing();
  PropList fapl = file_access(writable);
  const hid_t id = check_id(
      H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()), "H5Fopen", path);
  return File(id, &H5Fclose, path, "/");
}

File File::create_in_memory(const std::string& name) {
  silence_error_printing();
  PropList fcpl = PropList::create(H5P_FILE_CREATE);
  track_creation_order(fcpl, /*links=*/true);
  PropList fapl = file_access(/*writable=*/true, /*in_memory=*/true);
  const hid_t id =
      check_id(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), "H5Fcreate", name);
  return File(id, &H5Fclose, name, "/");
}

File File::open_in_memory(const std::string& path) {
  silence_error_printing();
  PropList fapl = file_access(/*writable=*/true, /*in_memory=*/true);
  const hid_t id = check_id(H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl.get()), "H5Fopen", path);
  return File(id, &H5Fclose, path, "/");
}

std::vector<unsigned char> File::image() const {
  // H5Fget_file_image does not flush the metadata cache itself in HDF5 1.10.
  check(H5Fflush(get(), H5F_SCOPE_GLOBAL), "H5Fflush", file_name());
  const ssize_t size = H5Fget_file_image(get(), nullptr, 0);
  check(size < 0 ? -1 : 0, "H5Fget_file_image", file_name());
  std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
  check(H5Fget_file_image(get(), bytes.data(), bytes.size()) < 0 ? -1 : 0, "H5Fget_file_image",
        file_name());
  return bytes;
}

void File::check_image(std::span<const unsigned char> bytes, const std::string& name) {
  silence_error_printing();
  PropList fapl = file_access(/*writable=*/false, /*in_memory=*/true);
  check(H5Pset_file_image(fapl.get(), const_cast<unsigned char*>(bytes.data()), bytes.size()),
        "H5Pset_file_image", name);
  // The core driver refuses to open an image under the name of a file that exists on disk.
  const std::string unused_name = name + ".image." + std::to_string(::getpid());
  const hid_t id = H5Fopen(unused_name.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (id < 0) {
    const std::string stack = error_stack_text();
    const unsigned superblock = bytes.size() > 8 ? bytes[8] : 0;
    DME_THROW("HDF5 " << H5_VERS_MAJOR << "." << H5_VERS_MINOR << "." << H5_VERS_RELEASE
                      << " produced an image of '" << name << "' (superblock version " << superblock
                      << ") that it cannot read back, so it was not written: " << stack);
  }
  H5Fclose(id);
}

bool File::is_hdf5(const std::string& path) {
  silence_error_printing();
  const htri_t result = H5Fis_hdf5(path.c_str());
  if (result < 0) fail("H5Fis_hdf5", path);
  return result > 0;
}

void File::close() {
  if (!valid()) return;
  // On failure the identifier stays owned, so the destructor still releases it.
  check(H5Fclose(get()), "H5Fclose", file_name());
  release();
}

// ---- Group ----------------------------------------------------------------------------------

Group Group::create(const Location& parent, std::string_view name) {
  PropList gcpl = PropList::create(H5P_GROUP_CREATE);
  track_creation_order(gcpl, /*links=*/true);
  const std::string child = parent.child_path(name);
  const hid_t id = check_id(
      H5Gcreate2(parent.get(), std::string(name).c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
      "H5Gcreate2", parent.file_name() + ":" + child);
  return Group(id, &H5Gclose, parent.file_name(), child);
}

Group Group::open(const Location& parent, std::string_view name) {
  const std::string child = parent.child_path(name);
  const hid_t id = check_id(H5Gopen2(parent.get(), std::string(name).c_str(), H5P_DEFAULT),
                            "H5Gopen2", parent.file_name() + ":" + child);
  return Group(id, &H5Gclose, parent.file_name(), child);
}

Group Group::root(const File& file) {
  const hid_t id = check_id(H5Gopen2(file.get(), "/", H5P_DEFAULT), "H5Gopen2", file.where());
  return Group(id, &H5Gclose, file.file_name(), "/");
}

bool Group::has_child(std::string_view name) const {
  const htri_t exists = H5Lexists(get(), std::string(name).c_str(), H5P_DEFAULT);
  check(exists < 0 ? -1 : 0, "H5Lexists", file_name() + ":" + child_path(name));
  return exists > 0;
}

std::vector<std::string> Group::child_names() const {
  H5G_info_t info;
  check(H5Gget_info(get(), &info), "H5Gget_info", where());
  PropList gcpl = PropList::adopt(H5Gget_create_plist(get()), "H5Gget_create_plist", where());
  unsigned order_flags = 0;
  check(H5Pget_link_creation_order(gcpl.get(), &order_flags), "H5Pget_link_creation_order",
        where());
  // Files written elsewhere may not index creation order; fall back to names.
  const H5_index_t index =
      (order_flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
  std::vector<std::string> names;
  names.reserve(info.nlinks);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t length =
        H5Lget_name_by_idx(get(), ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    check(length < 0 ? -1 : 0, "H5Lget_name_by_idx", where());
    std::vector<char> buffer(static_cast<std::size_t>(length) + 1);
    check(H5Lget_name_by_idx(get(), ".", index, H5_ITER_INC, i, buffer.data(), buffer.size(),
                             H5P_DEFAULT) < 0
              ? -1
              : 0,
          "H5Lget_name_by_idx", where());
    names.emplace_back(buffer.data(), static_cast<std::size_t>(length));
  }
  return names;
}

H5I_type_t Group::child_type(std::string_view name) const {
  const std::string what = file_name() + ":" + child_path(name);
  Handle object(check_id(H5Oopen(get(), std::string(name).c_str(), H5P_DEFAULT), "H5Oopen", what),
                &H5Oclose);
  return H5Iget_type(object.get());
}

// ---- Dataset --------------------------------------------------------------------------------

namespace {
template <class T>
Dataset create_dataset(const Location& parent, std::string_view name, std::span<const hsize_t> dims,
                       std::span<const T> values, hid_t file_type, hid_t mem_type,
                       Dataset (*make)(hid_t, std::string, std::string)) {
  DME_ASSERT(product(dims) == values.size());
  Dataspace space = Dataspace::simple(dims);
  const std::string child = parent.child_path(name);
  const std::string where = parent.file_name() + ":" + child;
  PropList dcpl = PropList::create(H5P_DATASET_CREATE);
  track_creation_order(dcpl, /*links=*/false);
  const hid_t id = check_id(H5Dcreate2(parent.get(), std::string(name).c_str(), file_type,
                                       space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                            "H5Dcreate2", where);
  Dataset dataset = make(id, parent.file_name(), child);
  write_all(dataset.get(), mem_type, values, where);
  return dataset;
}
}  // namespace

Dataset Dataset::create(const Location& parent, std::string_view name,
                        std::span<const hsize_t> dims, std::span<const double> values) {
  return create_dataset(parent, name, dims, values, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                        [](hid_t id, std::string file, std::string path) {
                          return Dataset(id, &H5Dclose, std::move(file), std::move(path));
                        });
}

Dataset Dataset::create(const Location& parent, std::string_view name,
                        std::span<const hsize_t> dims, std::span<const float> values) {
  return create_dataset(parent, name, dims, values, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                        [](hid_t id, std::string file, std::string path) {
                          return Dataset(id, &H5Dclose, std::move(file), std::move(path));
                        });
}

Dataset Dataset::open(const Location& parent, std::string_view name) {
  const std::string child = parent.child_path(name);
  const hid_t id = check_id(H5Dopen2(parent.get(), std::string(name).c_str(), H5P_DEFAULT),
                            "H5Dopen2", parent.file_name() + ":" + child);
  return Dataset(id, &H5Dclose, parent.file_name(), child);
}

std::vector<hsize_t> Dataset::dims() const {
  return Dataspace::adopt(H5Dget_space(get()), "H5Dget_space", where()).dims();
}

namespace {
void require_numeric(hid_t dataset, const std::string& where) {
  Datatype type = Datatype::adopt(H5Dget_type(dataset), "H5Dget_type", where);
  const H5T_class_t cls = H5Tget_class(type.get());
  DME_CHECK(cls == H5T_INTEGER || cls == H5T_FLOAT,
            "dataset " << where << " does not hold numbers (HDF5 type class " << int(cls) << ")");
}
}  // namespace

std::vector<double> Dataset::read_doubles() const {
  require_numeric(get(), where());
  std::vector<double> values(static_cast<std::size_t>(product(dims())));
  if (!values.empty())
    check(H5Dread(get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          "H5Dread", where());
  return values;
}

namespace {

template <class T>
std::vector<T> read_block(const Dataset& ds, hid_t mem_type, std::span<const hsize_t> start,
                          std::span<const hsize_t> count) {
  require_numeric(ds.get(), ds.where());
  Dataspace file_space = Dataspace::adopt(H5Dget_space(ds.get()), "H5Dget_space", ds.where());
  file_space.select_block(start, count);
  Dataspace mem_space = Dataspace::simple(count);
  std::vector<T> values(static_cast<std::size_t>(product(count)));
  if (!values.empty())
    check(
        H5Dread(ds.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, values.data()),
        "H5Dread", ds.where());
  return values;
}

}  // namespace

std::vector<float> Dataset::read_floats(std::span<const hsize_t> start,
                                        std::span<const hsize_t> count) const {
  return read_block<float>(*this, H5T_NATIVE_FLOAT, start, count);
}

std::vector<double> Dataset::read_doubles(std::span<const hsize_t> start,
                                          std::span<const hsize_t> count) const {
  return read_block<double>(*this, H5T_NATIVE_DOUBLE, start, count);
}

}  // namespace dme::h5
