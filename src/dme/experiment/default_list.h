// The drivers' default lists (collective's exchanges, schemes' schemes, train's estimators):
// run what the other options allow. An entry of a default list whose options the estimator
// refuses (validate() in collective/options.h) is left out with a line saying why; an entry the
// user named must be accepted, or the run stops before any work with its error on every rank
// (validate() depends on the options only, so every rank keeps the same entries).
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "dme/core/error.h"

namespace dme {

/// The refusals met while filtering a default list: their lines, and the first one's error
/// (thrown when nothing of the list is left).
class DefaultListFilter {
 public:
  /// @param named   the user named the list (refusals are errors)
  /// @param list    the list's name in the lines ("exchanges")
  /// @param option  the option that names it ("--exchange")
  /// @param unit    after the qualifiers of an entry's refusals ("bits": "eden at 1, 2 bits")
  DefaultListFilter(bool named, std::string_view list, std::string_view option,
                    std::string_view unit = {})
      : named_(named), list_(list), option_(option), unit_(unit) {}

  /// True when check() returns; when it throws dme::Error: rethrown for a named list, else false,
  /// noted for `entry` (refusals of one entry with the same message share a line, their
  /// qualifiers listed).
  template <class Check>
  bool accepts(std::string_view entry, Check&& check, std::string_view qualifier = {}) {
    if (named_) {
      check();
      return true;
    }
    try {
      check();
      return true;
    } catch (const Error& e) {
      if (!first_) first_ = std::current_exception();
      note(entry, qualifier, e.message());
      return false;
    }
  }

  /// When nothing was accepted: the run stops with the refusal (or every refusal, when there
  /// were several reasons).
  void throw_if_none(bool none_accepted) const {
    if (!none_accepted || refusals_.empty()) return;
    if (refusals_.size() == 1) std::rethrow_exception(first_);
    std::string all;
    for (const Refusal& r : refusals_)
      all +=
          "\n  " + r.entry + (r.qualifiers.empty() ? "" : " at " + r.qualifiers) + ": " + r.message;
    DME_THROW("no entry of the default " << list_ << " takes these options (name others with "
                                         << option_ << "):" << all);
  }

  /// One line per entry and reason: "<entry> [at <qualifiers> <unit>] is left out of the
  /// default <list> (naming it in <option> makes this an error): <message>".
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    for (const Refusal& r : refusals_) {
      std::string line = r.entry;
      if (!r.qualifiers.empty()) line += " at " + r.qualifiers + (unit_.empty() ? "" : " " + unit_);
      out.push_back(line + " is left out of the default " + list_ + " (naming it in " + option_ +
                    " makes this an error): " + r.message);
    }
    return out;
  }

 private:
  struct Refusal {
    std::string entry, message, qualifiers;
  };

  void note(std::string_view entry, std::string_view qualifier, const std::string& message) {
    for (Refusal& r : refusals_)
      if (r.entry == entry && r.message == message) {
        if (!qualifier.empty()) r.qualifiers += ", " + std::string(qualifier);
        return;
      }
    refusals_.push_back({std::string(entry), message, std::string(qualifier)});
  }

  bool named_;
  std::string list_, option_, unit_;
  std::vector<Refusal> refusals_;
  std::exception_ptr first_;
};

}  // namespace dme
