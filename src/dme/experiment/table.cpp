#include "dme/experiment/table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iomanip>

#include "dme/core/error.h"
#include "dme/core/simd.h"

namespace dme {

Table::Table(std::vector<std::string> columns, bool csv)
    : columns_(std::move(columns)), csv_(csv) {}

void Table::print_header(std::ostream& os) const {
  // People reading a table see which SIMD target and CPU produced it (CSV stays header-only).
  if (!csv_) {
    const std::string simd = simd_summary();  // first: it may throw (a DME_SIMD the CPU lacks)
    os << "# simd: " << simd << '\n';
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (csv_) {
      os << (i ? "," : "") << columns_[i];
    } else {
      const int w = static_cast<int>(std::max<std::size_t>(12, columns_[i].size() + 1));
      os << (i == 0 ? "#" : " ") << std::setw(i == 0 ? w - 1 : w) << columns_[i];
    }
  }
  os << '\n';
}

std::string Table::format(const Cell& c) const {
  if (auto* i = std::get_if<long long>(&c)) return std::to_string(*i);
  if (auto* s = std::get_if<std::string>(&c)) return *s;
  const double v = std::get<double>(c);
  if (std::isnan(v)) return "nan";
  char buf[64];
  const double a = std::fabs(v);
  if (v == 0 || (a >= 1e-3 && a < 1e6))
    std::snprintf(buf, sizeof buf, csv_ ? "%.6g" : "%.4f", v);
  else
    std::snprintf(buf, sizeof buf, csv_ ? "%.6g" : "%.4e", v);
  return buf;
}

void Table::print_row(std::ostream& os, const std::vector<Cell>& cells) const {
  DME_ASSERT(cells.size() == columns_.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (csv_) {
      os << (i ? "," : "") << format(cells[i]);
    } else {
      const int w = static_cast<int>(std::max<std::size_t>(12, columns_[i].size() + 1));
      os << (i == 0 ? " " : " ") << std::setw(i == 0 ? w - 1 : w) << format(cells[i]);
    }
  }
  os << std::endl;
}

}  // namespace dme
