#include "dme/io/attr_value.h"

#include <sstream>

namespace dme {
namespace {

void put(std::ostream& os, std::int64_t v) {
  os << v;
}
void put(std::ostream& os, double v) {
  os.precision(17);
  os << v;
}
void put(std::ostream& os, const std::string& v) {
  os << '"' << v << '"';
}

template <class T>
void put(std::ostream& os, const std::vector<T>& values) {
  os << '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) os << ", ";
    put(os, values[i]);
  }
  os << ']';
}

}  // namespace

std::string to_string(const AttrValue& value) {
  std::ostringstream os;
  std::visit([&](const auto& v) { put(os, v); }, value);
  return os.str();
}

}  // namespace dme
