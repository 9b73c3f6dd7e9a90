// Compensated (TwoSum) accumulation in double: the running sum is exact up to one rounding of
// the final value, so prefix sums over 2^24 large values keep ~16 significant digits where a
// plain double sum loses log2(d) bits and a float sum is useless.
#pragma once

namespace dme::detail {

class CompensatedSum {
 public:
  void add(double y) {
    const double s = sum_ + y;
    const double bb = s - sum_;
    comp_ += (sum_ - (s - bb)) + (y - bb);  // Knuth's TwoSum error term, branch free
    sum_ = s;
  }
  /// Adds another compensated sum (its running sum exactly, its correction as is).
  void add(const CompensatedSum& other) {
    add(other.sum_);
    comp_ += other.comp_;
  }
  double value() const { return sum_ + comp_; }

 private:
  double sum_ = 0, comp_ = 0;
};

}  // namespace dme::detail
