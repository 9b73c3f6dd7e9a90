#include "dme/io/results.h"

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <numeric>
#include <optional>
#include <set>
#include <system_error>

#include "dme/core/error.h"
#include "dme/io/detail/temp_file.h"
#include "dme/io/hdf5.h"

namespace dme {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "dme-results";
constexpr std::int64_t kFormatVersion = 1;

/// Group and dataset names are single path components.
bool valid_name(const std::string& name) {
  return !name.empty() && name != "." && name.find('/') == std::string::npos;
}

void validate_dataset(const Run& run, const Dataset& ds) {
  DME_CHECK(valid_name(ds.name), "run '" << run.name << "': dataset name '" << ds.name
                                         << "' must be non-empty, not '.', and contain no '/'");
  DME_CHECK(!ds.shape.empty(), "run '" << run.name << "', dataset '" << ds.name
                                       << "': shape is empty (use {n} or {rows, cols})");
  DME_CHECK(ds.shape.size() <= H5S_MAX_RANK, "run '" << run.name << "', dataset '" << ds.name
                                                     << "': rank " << ds.shape.size() << " exceeds "
                                                     << H5S_MAX_RANK);
  const std::size_t count =
      std::accumulate(ds.shape.begin(), ds.shape.end(), std::size_t{1}, std::multiplies<>());
  DME_CHECK(count == ds.values.size(), "run '" << run.name << "', dataset '" << ds.name
                                               << "': shape holds " << count << " values but "
                                               << ds.values.size() << " were given");
  DME_CHECK(!ds.units.empty(), "run '" << run.name << "', dataset '" << ds.name
                                       << "': units are empty (use \"1\" for dimensionless)");
  for (const auto& [key, value] : ds.attributes) {
    DME_CHECK(!key.empty() && key != "units",
              "run '" << run.name << "', dataset '" << ds.name << "': extra attribute name '" << key
                      << "' is empty or 'units' (set Dataset::units instead)");
  }
}

/// Everything that can be checked without touching a file, so that a bad record fails
/// before the temporary is created.
void validate_runs(const std::vector<Run>& runs) {
  std::set<std::string> run_names;
  for (const Run& run : runs) {
    DME_CHECK(valid_name(run.name),
              "run name '" << run.name << "' must be non-empty, not '.', and contain no '/'");
    DME_CHECK(run_names.insert(run.name).second, "run name '" << run.name << "' appears twice");
    for (const auto& [key, value] : run.parameters) {
      DME_CHECK(!key.empty(), "run '" << run.name << "' has a parameter with an empty name");
      DME_CHECK(!key.starts_with(kAppendedProvenancePrefix),
                "run '" << run.name << "': parameter name '" << key
                        << "' uses the reserved prefix '" << kAppendedProvenancePrefix << "'");
    }
    std::set<std::string> dataset_names;
    for (const Dataset& ds : run.datasets) {
      validate_dataset(run, ds);
      DME_CHECK(dataset_names.insert(ds.name).second,
                "run '" << run.name << "': dataset name '" << ds.name << "' appears twice");
    }
  }
}

void reject_existing_runs(const std::string& path, const std::vector<Run>& runs) {
  h5::File file = h5::File::open(path, /*writable=*/false);
  {
    h5::Group root = h5::Group::root(file);
    for (const Run& run : runs) {
      DME_CHECK(!root.has_child(run.name),
                "cannot append run '" << run.name << "' to '" << path
                                      << "': a group of that name exists already (runs are never "
                                         "overwritten; write to another file, or name this "
                                         "job's runs apart: dme-experiment --tag)");
    }
  }
  file.close();
}

void write_run(h5::Group& root, const Run& run, const Provenance* appended_provenance) {
  h5::Group group = h5::Group::create(root, run.name);
  for (const auto& [key, value] : run.parameters) group.write_attribute(key, value);
  if (appended_provenance != nullptr)
    write_provenance(group, *appended_provenance, kAppendedProvenancePrefix);
  for (const Dataset& ds : run.datasets) {
    const std::vector<hsize_t> dims(ds.shape.begin(), ds.shape.end());
    h5::Dataset dataset = h5::Dataset::create(group, ds.name, dims, std::span(ds.values));
    dataset.write_attribute("units", ds.units);
    for (const auto& [key, value] : ds.attributes) dataset.write_attribute(key, value);
  }
}

/// Fills an open file; every group it opens is closed when it returns (H5F_CLOSE_SEMI).
void write_contents(h5::File& file, const Provenance& provenance, const std::vector<Run>& runs,
                    bool appending) {
  h5::Group root = h5::Group::root(file);
  if (!appending) {
    root.write_attribute("format", std::string(kFormat));
    root.write_attribute("format_version", kFormatVersion);
    write_provenance(root, provenance, "");
  }
  for (const Run& run : runs) write_run(root, run, appending ? &provenance : nullptr);
}

std::map<std::string, AttrValue> read_attributes(const h5::Location& loc) {
  std::map<std::string, AttrValue> attributes;
  for (const std::string& name : loc.attribute_names())
    attributes.emplace(name, loc.read_attribute(name));
  return attributes;
}

Dataset read_dataset(const h5::Group& group, const std::string& name) {
  h5::Dataset dataset = h5::Dataset::open(group, name);
  Dataset ds;
  ds.name = name;
  for (hsize_t extent : dataset.dims()) ds.shape.push_back(static_cast<std::size_t>(extent));
  ds.values = dataset.read_doubles();
  ds.attributes = read_attributes(dataset);
  auto units = ds.attributes.find("units");
  if (units != ds.attributes.end() && std::holds_alternative<std::string>(units->second)) {
    ds.units = std::get<std::string>(units->second);
    ds.attributes.erase(units);
  }
  return ds;
}

Run read_run(const h5::Group& root, const std::string& name) {
  h5::Group group = h5::Group::open(root, name);
  Run run;
  run.name = name;
  run.parameters = read_attributes(group);
  for (const std::string& child : group.child_names()) {
    if (group.child_type(child) == H5I_DATASET) run.datasets.push_back(read_dataset(group, child));
  }
  return run;
}

}  // namespace

std::string temporary_path(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void check_output_path(const std::string& path, WriteMode mode) {
  DME_CHECK(!path.empty(), "the output path is empty");
  const fs::path p(path);
  DME_CHECK(p.has_filename(), "output path '" << path << "' names a directory, not a file");
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  std::error_code ec;
  const fs::file_status dir_status = fs::status(dir, ec);
  DME_CHECK(
      fs::is_directory(dir_status),
      "cannot write '" << path << "': directory '" << dir.string()
                       << (fs::exists(dir_status) ? "' is not a directory" : "' does not exist")
                       << (ec ? " (" + ec.message() + ")" : std::string()));
  const fs::file_status status = fs::status(p, ec);
  if (fs::exists(status)) {
    DME_CHECK(!fs::is_directory(status), "output path '" << path << "' is a directory");
    DME_CHECK(mode != WriteMode::kCreate, "output file '"
                                              << path
                                              << "' exists already; pass --force to replace it or "
                                                 "--append to add runs to it");
    DME_CHECK(fs::is_regular_file(status), "output path '" << path << "' is not a regular file");
    if (mode == WriteMode::kAppend)
      DME_CHECK(h5::File::is_hdf5(path),
                "cannot append to '" << path << "': it is not an HDF5 file");
  }
  detail::probe_writable(path);
}

void check_run_names(const std::string& path, WriteMode mode,
                     const std::vector<std::string>& names) {
  std::set<std::string> seen;
  for (const std::string& name : names)
    DME_CHECK(seen.insert(name).second, "run name '" << name << "' appears twice in this run");
  if (mode != WriteMode::kAppend || !fs::exists(path)) return;
  std::vector<Run> runs(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) runs[i].name = names[i];
  reject_existing_runs(path, runs);
}

namespace {

// The file image of `runs` written on their own (provenance at the root), or appended to the
// existing file at `path`.
std::vector<unsigned char> build_image(const std::string& path, const std::string& temp_path,
                                       const Provenance& provenance, const std::vector<Run>& runs,
                                       bool appending) {
  std::vector<unsigned char> image;
  h5::File file =
      appending ? h5::File::open_in_memory(path) : h5::File::create_in_memory(temp_path);
  write_contents(file, provenance, runs, appending);
  image = file.image();
  file.close();
  h5::File::check_image(image, path);
  return image;
}

// Writes the image to the temporary; when that fails (a full disk, a quota, a directory gone),
// saves it elsewhere first (detail::write_rescue_copy), so that the error names where the
// results are rather than losing them.
void write_or_rescue(detail::TempFile& temp, const std::string& path,
                     const std::vector<unsigned char>& image) {
  try {
    temp.write(image);
  } catch (const Error& e) {
    std::string failures;
    const std::string saved = detail::write_rescue_copy(path, image, failures);
    if (!saved.empty())
      DME_THROW(e.message() << "; the results were saved to '" << saved << "' instead");
    DME_THROW(e.message() << "; saving the results elsewhere failed too (" << failures << ")");
  }
}

}  // namespace

void write_results(const std::string& path, const Provenance& provenance,
                   const std::vector<Run>& runs, WriteMode mode) {
  validate_runs(runs);
  check_output_path(path, mode);
  // HDF5 builds the file in memory (an appended file starts as the original's bytes), and
  // only then is the image written to the temporary: an I/O error is then a plain error of
  // ours rather than an HDF5 file left half-closed.
  for (;;) {
    // Replacing an existing file (append, force) happens under its lock, so that concurrent
    // appends serialise instead of one rename dropping the other's runs.
    const std::optional<detail::FileLock> lock =
        mode == WriteMode::kCreate ? std::nullopt : detail::FileLock::existing(path);
    const bool appending = mode == WriteMode::kAppend && lock.has_value();
    detail::TempFile temp(path);
    if (appending) {
      try {
        reject_existing_runs(path, runs);
      } catch (const Error& e) {
        // Another job appended a run of the same name since the check before the run: keep
        // this run's results in a file of their own rather than lose them.
        write_or_rescue(temp, path,
                        build_image(path, temp.path(), provenance, runs, /*appending=*/false));
        temp.keep();
        DME_THROW(e.message() << "; this run's results are kept in '" << temp.path() << "'");
      }
    }
    write_or_rescue(temp, path, build_image(path, temp.path(), provenance, runs, appending));
    if (mode == WriteMode::kForce || appending) {
      temp.publish(/*no_clobber=*/false);
      return;
    }
    if (mode == WriteMode::kCreate) {
      temp.publish(/*no_clobber=*/true);  // keeps the temporary when the target appeared
      return;
    }
    // Append to a missing file: create it, unless another job created it meanwhile; then
    // append to theirs.
    if (temp.publish_if_absent()) return;
  }
}

ResultsFile read_results(const std::string& path) {
  h5::File file = h5::File::open(path, /*writable=*/false);
  ResultsFile out;
  {
    h5::Group root = h5::Group::root(file);
    out.root_attributes = read_attributes(root);
    for (const std::string& name : root.child_names()) {
      if (root.child_type(name) == H5I_GROUP) out.runs.push_back(read_run(root, name));
    }
  }
  file.close();
  return out;
}

}  // namespace dme
