// Result tables printed by the benchmarks and experiments: fixed-width columns for people
// (header line starts with '#', as OSU and nccl-tests print), or CSV with exactly the header.
#pragma once

#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace dme {

class Table {
 public:
  using Cell = std::variant<long long, double, std::string>;

  Table(std::vector<std::string> columns, bool csv);

  /// Prints the header (once, before the first row).
  void print_header(std::ostream& os) const;
  /// Prints one row; cells in column order.
  void print_row(std::ostream& os, const std::vector<Cell>& cells) const;

  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::string format(const Cell& c) const;
  std::vector<std::string> columns_;
  bool csv_;
};

}  // namespace dme
