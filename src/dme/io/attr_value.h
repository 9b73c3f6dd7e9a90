// dme::AttrValue: the value of one HDF5 attribute of a results file (a run parameter, a
// dataset's extra metadata, a provenance field).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace dme {

/// Scalars are written as scalar HDF5 attributes, vectors as 1-D ones (an empty vector as a
/// 1-D attribute of length 0). Integers are 64-bit signed, reals IEEE double, strings
/// variable-length UTF-8. Unsigned 64-bit attributes (the provenance seeds) read back as
/// std::int64_t holding the same bits: cast to std::uint64_t to recover values >= 2^63.
using AttrValue = std::variant<std::int64_t, double, std::string, std::vector<std::int64_t>,
                               std::vector<double>, std::vector<std::string>>;

/// A short human-readable rendering ("3", "0.5", "\"text\"", "[1, 2]") for messages and tools.
std::string to_string(const AttrValue& value);

}  // namespace dme
