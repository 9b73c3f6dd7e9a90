// Attributes of dme::h5::Location: every AttrValue kind, written and read back.
#include <bit>
#include <cstring>

#include "dme/core/error.h"
#include "dme/io/hdf5.h"

namespace dme::h5 {
namespace {

herr_t collect_name(hid_t /*location*/, const char* name, const H5A_info_t* /*info*/, void* data) {
  try {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  } catch (...) {
    return -1;  // an exception must not cross HDF5's C frames
  }
  return 0;
}

std::string attribute_where(const Location& loc, std::string_view name) {
  return loc.where() + " attribute '" + std::string(name) + "'";
}

/// Creates attribute `name` of `file_type` over `space` and writes `data` (unless empty).
void create_and_write(const Location& loc, std::string_view name, hid_t file_type, hid_t mem_type,
                      const Dataspace& space, const void* data) {
  const std::string what = attribute_where(loc, name);
  Handle attr(check_id(H5Acreate2(loc.get(), std::string(name).c_str(), file_type, space.get(),
                                  H5P_DEFAULT, H5P_DEFAULT),
                       "H5Acreate2", what),
              &H5Aclose);
  if (space.element_count() > 0) check(H5Awrite(attr.get(), mem_type, data), "H5Awrite", what);
}

Dataspace vector_space(std::size_t n) {
  const hsize_t dims[1] = {n};
  return Dataspace::simple(dims);
}

void write_strings(const Location& loc, std::string_view name, const std::string* strings,
                   std::size_t n, bool scalar) {
  std::vector<const char*> pointers(n);
  for (std::size_t i = 0; i < n; ++i) pointers[i] = strings[i].c_str();
  Datatype type = Datatype::utf8_string();
  create_and_write(loc, name, type.get(), type.get(),
                   scalar ? Dataspace::scalar() : vector_space(n), pointers.data());
}

void reclaim_strings(hid_t mem_type, hid_t space, std::vector<char*>& pointers) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(mem_type, space, H5P_DEFAULT, pointers.data());
#else
  H5Dvlen_reclaim(mem_type, space, H5P_DEFAULT, pointers.data());
#endif
}

std::vector<std::string> read_strings(hid_t attr, hid_t file_type, const Dataspace& space,
                                      std::size_t n, const std::string& what) {
  Datatype mem = Datatype::adopt(H5Tcopy(file_type), "H5Tcopy", what);
  std::vector<std::string> out;
  if (n == 0) return out;  // H5Aread rejects the null buffer of an empty vector
  out.reserve(n);
  const htri_t variable = H5Tis_variable_str(file_type);
  check(variable < 0 ? -1 : 0, "H5Tis_variable_str", what);
  if (variable > 0) {
    std::vector<char*> pointers(n, nullptr);
    check(H5Aread(attr, mem.get(), pointers.data()), "H5Aread", what);
    try {
      for (char* p : pointers) out.emplace_back(p ? p : "");
    } catch (...) {
      reclaim_strings(mem.get(), space.get(), pointers);
      throw;
    }
    reclaim_strings(mem.get(), space.get(), pointers);
    return out;
  }
  // Fixed length (h5py's numpy 'S' strings): null- or space-padded cells of `size` bytes.
  const std::size_t size = H5Tget_size(file_type);
  std::vector<char> cells(n * size);
  check(H5Aread(attr, mem.get(), cells.data()), "H5Aread", what);
  const bool space_padded = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD;
  for (std::size_t i = 0; i < n; ++i) {
    const char* cell = cells.data() + i * size;
    std::size_t len = strnlen(cell, size);
    while (space_padded && len > 0 && cell[len - 1] == ' ') --len;
    out.emplace_back(cell, len);
  }
  return out;
}

template <class T>
std::vector<T> read_numbers(hid_t attr, hid_t mem_type, std::size_t n, const std::string& what) {
  std::vector<T> values(n);
  if (n > 0) check(H5Aread(attr, mem_type, values.data()), "H5Aread", what);
  return values;
}

std::vector<std::int64_t> read_integers(hid_t attr, hid_t file_type, std::size_t n,
                                        const std::string& what) {
  if (H5Tget_sign(file_type) == H5T_SGN_NONE && H5Tget_size(file_type) == 8) {
    // Keep the bits of unsigned values >= 2^63 instead of letting HDF5 clamp them.
    std::vector<std::uint64_t> raw = read_numbers<std::uint64_t>(attr, H5T_NATIVE_UINT64, n, what);
    std::vector<std::int64_t> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = std::bit_cast<std::int64_t>(raw[i]);
    return values;
  }
  return read_numbers<std::int64_t>(attr, H5T_NATIVE_INT64, n, what);
}

template <class T>
AttrValue scalar_or_vector(std::vector<T> values, bool scalar) {
  if (scalar) return AttrValue(std::move(values.front()));
  return AttrValue(std::move(values));
}

}  // namespace

std::vector<std::string> Location::attribute_names() const {
  std::vector<std::string> names;
  check(H5Aiterate2(get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, &collect_name, &names),
        "H5Aiterate2", where());
  return names;
}

bool Location::has_attribute(std::string_view name) const {
  const htri_t exists = H5Aexists(get(), std::string(name).c_str());
  check(exists < 0 ? -1 : 0, "H5Aexists", attribute_where(*this, name));
  return exists > 0;
}

void Location::write_attribute(std::string_view name, const AttrValue& value) {
  DME_CHECK(!name.empty(), "an attribute of " << where() << " has an empty name");
  DME_CHECK(!has_attribute(name), attribute_where(*this, name)
                                      << " already exists (attributes are never overwritten)");
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::int64_t>) {
          create_and_write(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, Dataspace::scalar(), &v);
        } else if constexpr (std::is_same_v<V, double>) {
          create_and_write(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, Dataspace::scalar(), &v);
        } else if constexpr (std::is_same_v<V, std::string>) {
          write_strings(*this, name, &v, 1, /*scalar=*/true);
        } else if constexpr (std::is_same_v<V, std::vector<std::int64_t>>) {
          create_and_write(*this, name, H5T_STD_I64LE, H5T_NATIVE_INT64, vector_space(v.size()),
                           v.data());
        } else if constexpr (std::is_same_v<V, std::vector<double>>) {
          create_and_write(*this, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, vector_space(v.size()),
                           v.data());
        } else {
          static_assert(std::is_same_v<V, std::vector<std::string>>);
          write_strings(*this, name, v.data(), v.size(), /*scalar=*/false);
        }
      },
      value);
}

void Location::write_attribute(std::string_view name, std::span<const std::uint64_t> values) {
  DME_CHECK(!name.empty(), "an attribute of " << where() << " has an empty name");
  DME_CHECK(!has_attribute(name), attribute_where(*this, name)
                                      << " already exists (attributes are never overwritten)");
  create_and_write(*this, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, vector_space(values.size()),
                   values.data());
}

AttrValue Location::read_attribute(std::string_view name) const {
  const std::string what = attribute_where(*this, name);
  Handle attr(check_id(H5Aopen(get(), std::string(name).c_str(), H5P_DEFAULT), "H5Aopen", what),
              &H5Aclose);
  Datatype type = Datatype::adopt(H5Aget_type(attr.get()), "H5Aget_type", what);
  Dataspace space = Dataspace::adopt(H5Aget_space(attr.get()), "H5Aget_space", what);
  const H5S_class_t shape = H5Sget_simple_extent_type(space.get());
  const bool scalar = shape == H5S_SCALAR;
  std::size_t n = 0;  // H5S_NULL (no data) reads as an empty vector
  if (scalar) {
    n = 1;
  } else if (shape == H5S_SIMPLE) {
    const std::vector<hsize_t> dims = space.dims();
    DME_CHECK(dims.size() == 1,
              what << " has " << dims.size() << " dimensions; only scalars and 1-D are supported");
    n = static_cast<std::size_t>(dims[0]);
  }
  switch (H5Tget_class(type.get())) {
    case H5T_INTEGER:
      return scalar_or_vector(read_integers(attr.get(), type.get(), n, what), scalar);
    case H5T_FLOAT:
      return scalar_or_vector(read_numbers<double>(attr.get(), H5T_NATIVE_DOUBLE, n, what), scalar);
    case H5T_STRING:
      return scalar_or_vector(read_strings(attr.get(), type.get(), space, n, what), scalar);
    default:
      DME_THROW(what << " has an unsupported HDF5 type class "
                     << static_cast<int>(H5Tget_class(type.get()))
                     << " (supported: integer, float, string)");
  }
}

}  // namespace dme::h5
