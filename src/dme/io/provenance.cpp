#include "dme/io/provenance.h"

#include <hdf5.h>

#include <ctime>

#include "dme/core/error.h"
#include "dme/io/hdf5.h"

namespace dme {
namespace {

bool needs_quoting(std::string_view arg) {
  if (arg.empty()) return true;
  for (char c : arg) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("_-./=:,+@%^").find(c) != std::string_view::npos;
    if (!plain) return true;
  }
  return false;
}

template <class T>
const T& field(const std::map<std::string, AttrValue>& attributes, const std::string& name) {
  auto it = attributes.find(name);
  DME_CHECK(it != attributes.end(), "provenance attribute '" << name << "' is missing");
  const T* value = std::get_if<T>(&it->second);
  DME_CHECK(value != nullptr, "provenance attribute '"
                                  << name << "' has an unexpected type: " << to_string(it->second));
  return *value;
}

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point time) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  DME_CHECK(gmtime_r(&t, &utc) != nullptr, "cannot convert time " << t << " to UTC");
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  DME_ASSERT(n > 0);
  return std::string(text, n);
}

std::string command_line_string(int argc, const char* const* argv) {
  std::string line;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i] ? argv[i] : "";
    if (i > 0) line += ' ';
    if (!needs_quoting(arg)) {
      line += arg;
      continue;
    }
    line += '\'';
    for (char c : arg) {
      if (c == '\'')
        line += "'\\''";  // close the quote, an escaped quote, reopen
      else
        line += c;
    }
    line += '\'';
  }
  return line;
}

std::string hdf5_library_version() {
  unsigned major = 0, minor = 0, release = 0;
  h5::check(H5get_libversion(&major, &minor, &release), "H5get_libversion", "the HDF5 library");
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

void write_provenance(h5::Location& loc, const Provenance& p, std::string_view prefix) {
  const std::string pre(prefix);
  loc.write_attribute(pre + "program", p.program);
  loc.write_attribute(pre + "version", p.version);
  loc.write_attribute(pre + "git_commit", p.git_commit);
  loc.write_attribute(pre + "command_line", p.command_line);
  loc.write_attribute(pre + "created", p.created_iso8601);
  loc.write_attribute(pre + "mpi_library_version", p.mpi_library_version);
  loc.write_attribute(pre + "hdf5_version", p.hdf5_version);
  loc.write_attribute(pre + "hosts", p.hosts);
  loc.write_attribute(pre + "ranks", p.ranks);
  loc.write_attribute(pre + "seeds", std::span<const std::uint64_t>(p.seeds));
  loc.write_attribute(pre + "simd_target", p.simd_target);
  loc.write_attribute(pre + "cpu", p.cpu);
}

Provenance provenance_from_attributes(const std::map<std::string, AttrValue>& attributes,
                                      std::string_view prefix) {
  const std::string pre(prefix);
  Provenance p;
  p.program = field<std::string>(attributes, pre + "program");
  p.version = field<std::string>(attributes, pre + "version");
  p.git_commit = field<std::string>(attributes, pre + "git_commit");
  p.command_line = field<std::string>(attributes, pre + "command_line");
  p.created_iso8601 = field<std::string>(attributes, pre + "created");
  p.mpi_library_version = field<std::string>(attributes, pre + "mpi_library_version");
  p.hdf5_version = field<std::string>(attributes, pre + "hdf5_version");
  p.hosts = field<std::vector<std::string>>(attributes, pre + "hosts");
  p.ranks = field<std::int64_t>(attributes, pre + "ranks");
  for (std::int64_t s : field<std::vector<std::int64_t>>(attributes, pre + "seeds"))
    p.seeds.push_back(static_cast<std::uint64_t>(s));  // stored as uint64; read as its bits
  // Recorded since the SIMD layer; optional so that older files still read.
  if (attributes.count(pre + "simd_target"))
    p.simd_target = field<std::string>(attributes, pre + "simd_target");
  if (attributes.count(pre + "cpu")) p.cpu = field<std::string>(attributes, pre + "cpu");
  return p;
}

}  // namespace dme
