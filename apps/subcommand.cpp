#include "subcommand.h"

#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include <boost/any.hpp>

#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/simd.h"

namespace po = boost::program_options;

namespace dme::app {
namespace {
int g_argc = 0;
char** g_argv = nullptr;

std::vector<Subcommand>& registry() {
  static std::vector<Subcommand> subs;
  return subs;
}

void usage(std::ostream& os, const std::string& program, const std::string& summary) {
  auto subs = registry();
  std::sort(subs.begin(), subs.end(), [](auto& a, auto& b) { return a.name < b.name; });
  os << program << ": " << summary << "\n\nUsage: " << program << " <subcommand> [options]   ("
     << program << " <subcommand> --help for its options)\n\n"
     << "Subcommands:\n";
  for (auto& s : subs)
    os << "  " << s.name << std::string(14 - std::min<std::size_t>(13, s.name.size()), ' ')
       << s.summary << "\n";
}
}  // namespace

int full_argc() {
  return g_argc;
}
char** full_argv() {
  return g_argv;
}

bool register_subcommand(Subcommand sub) {
  registry().push_back(std::move(sub));
  return true;
}

namespace {

// This process's rank in MPI_COMM_WORLD while MPI is running, else -1 (dme-bench runs without).
int world_rank_if_mpi() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return -1;
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

}  // namespace

int dispatch(const std::string& program, const std::string& summary, int argc, char** argv) {
  g_argc = argc;
  g_argv = argv;
  // Under mpirun every rank has the same command line: rank 0 alone prints usage and help.
  const bool prints = world_rank_if_mpi() <= 0;
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    if (prints) usage(argc < 2 ? std::cerr : std::cout, program, summary);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (auto& s : registry()) {
    if (s.name != name) continue;
    // An error every rank holds (an argument error: every rank parses the same command line;
    // or one the ranks agreed on, core/agree.h) is printed once, by rank 0; any other error by
    // the rank that has it.
    try {
      return s.main(argc - 1, argv + 1);
    } catch (const po::error& e) {
      if (world_rank_if_mpi() <= 0)
        std::cerr << program << " " << name << ": " << e.what() << " (see --help)\n";
      return 2;
    } catch (const dme::Error& e) {
      if (!e.agreed() || world_rank_if_mpi() <= 0)
        std::cerr << program + " " + name + ": " + e.what() + "\n";  // one write per rank
      return 1;
    } catch (const std::exception& e) {
      std::cerr << program + " " + name + ": unexpected error: " + e.what() + "\n";
      return 1;
    }
  }
  if (prints) {
    std::cerr << program << ": unknown subcommand '" << name << "'\n\n";
    usage(std::cerr, program, summary);
  }
  return 2;
}

namespace {

template <class... T>
bool holds_one_of(const boost::any& value) {
  return ((value.type() == typeid(T)) || ...);
}

// Boost converts "-1" into an unsigned option as 2^64 - 1 (strtoul's rule); a count, a length or
// a size given as a negative number is a mistake: name the option and the value as typed.
void reject_negative_unsigned(const po::parsed_options& parsed, const po::variables_map& vm) {
  for (const po::option& opt : parsed.options) {
    if (opt.string_key.empty() || !vm.count(opt.string_key)) continue;
    const boost::any& stored = vm[opt.string_key].value();
    if (!holds_one_of<unsigned, unsigned long, unsigned long long, std::vector<unsigned>,
                      std::vector<unsigned long>, std::vector<unsigned long long>>(stored))
      continue;
    for (const std::string& v : opt.value) {
      const std::size_t first = v.find_first_not_of(" \t");
      DME_CHECK(
          first == std::string::npos || v[first] != '-',
          "--" << opt.string_key << " must be a non-negative whole number, got '" << v << "'");
    }
  }
}

// The options a rank was given, as (name, values) sorted by name: the command line's, then the
// --config file's for the names the command line leaves unset (its values win, as in
// boost::program_options::store). --config itself is left out: its contents count, not its path;
// so are --threads and --simd, which may differ between nodes without changing any result.
using GivenOptions = std::map<std::string, std::string>;

// Adds parsed's options to `added`, leaving out those `given` already has.
void add_given(const po::parsed_options& parsed, const GivenOptions& given, GivenOptions& added) {
  for (const po::option& opt : parsed.options) {
    const std::string& key = opt.string_key;
    if (key.empty() || key == "config" || key == "threads" || key == "simd") continue;
    if (given.count(key)) continue;
    std::string& text = added[key];
    for (const std::string& v : opt.value) text += (text.empty() ? "" : " ") + v;
  }
}

// The text of a --config file: a directory, a read error, more than 1 MiB (/dev/zero) or a NUL
// byte is an error rather than an empty or garbled file that leaves every option at its default.
// Pipes (`--config <(...)`) are read like files.
std::string read_config_text(const std::string& path) {
  constexpr std::size_t kMaxBytes = std::size_t(1) << 20;
  std::error_code ec;
  DME_CHECK(!std::filesystem::is_directory(path, ec),
            "--config '" << path << "' is a directory, not an options file");
  std::ifstream file(path, std::ios::binary);
  DME_CHECK(file, "cannot read --config file '" << path << "'");
  std::string text;
  char buf[1 << 14];
  while (file.read(buf, sizeof buf) || file.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(file.gcount()));
    DME_CHECK(text.size() <= kMaxBytes,
              "--config file '" << path << "' is larger than 1 MiB: not an options file");
  }
  DME_CHECK(!file.bad(), "cannot read --config file '" << path << "'");
  const std::size_t nul = text.find('\0');
  DME_CHECK(nul == std::string::npos, "--config file '" << path << "' holds a NUL byte at offset "
                                                        << nul << ": not a text file");
  return text;
}

// This rank's parse: the command line, then --config; the options given, or throws.
GivenOptions parse_locally(int argc, char** argv, const po::options_description& all,
                           po::variables_map& vm) {
  const po::parsed_options parsed = po::command_line_parser(argc, argv).options(all).run();
  po::store(parsed, vm);
  reject_negative_unsigned(parsed, vm);
  GivenOptions given;
  add_given(parsed, {}, given);
  if (vm.count("config") && !vm.count("help")) {
    // Stored after the command line, so that the command line's values win.
    std::istringstream file(read_config_text(vm["config"].as<std::string>()));
    const po::parsed_options from_file = po::parse_config_file(file, all);
    po::store(from_file, vm);
    reject_negative_unsigned(from_file, vm);
    GivenOptions from_config;
    add_given(from_file, given, from_config);
    given.merge(from_config);
  }
  return given;
}

std::string serialise(const GivenOptions& given) {
  std::string out;
  for (const auto& [name, value] : given) out += name + '\x1f' + value + '\x1e';
  return out;
}

GivenOptions deserialise(const std::string& text) {
  GivenOptions out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t sep = text.find('\x1f', at), end = text.find('\x1e', sep);
    out[text.substr(at, sep - at)] = text.substr(sep + 1, end - sep - 1);
    at = end + 1;
  }
  return out;
}

std::string describe(const GivenOptions& options, const std::string& name) {
  const auto it = options.find(name);
  if (it == options.end()) return "no --" + name;
  return "--" + name + (it->second.empty() ? "" : " " + it->second);
}

// Collective over MPI_COMM_WORLD: every rank must have parsed the same options, or every rank
// throws the same dme::Error naming the lowest rank that differs from rank 0 and the first option
// that differs. A rank-local parse failure (a --config file one node lacks) is every rank's error.
void agree_across_ranks(const GivenOptions& given, const std::exception_ptr& failure,
                        const std::string& failure_text) {
  const MPI_Comm comm = MPI_COMM_WORLD;
  const int rank = mpi::comm_rank(comm);
  int in[2] = {failure ? rank : INT_MAX, failure ? 1 : 0}, out[2];
  DME_MPI_CHECK(MPI_Allreduce(in, out, 2, MPI_INT, MPI_MIN, comm));
  if (out[1] == 1) std::rethrow_exception(failure);  // every rank failed: the usual report
  if (out[0] != INT_MAX) mpi::raise_everywhere(out[0], failure_text, comm);
  std::string root_text = rank == 0 ? serialise(given) : std::string();
  mpi::broadcast_string(root_text, 0, comm);
  std::optional<std::string> differs;
  if (rank != 0 && serialise(given) != root_text) {
    const GivenOptions root = deserialise(root_text);
    std::set<std::string> names;
    for (const auto& [name, value] : given) names.insert(name);
    for (const auto& [name, value] : root) names.insert(name);
    for (const std::string& name : names) {
      if (describe(given, name) == describe(root, name)) continue;
      differs = "the options differ across ranks: rank " + std::to_string(rank) + " has " +
                describe(given, name) + ", rank 0 has " + describe(root, name) +
                " (every rank must be given the same command line and --config file)";
      break;
    }
  }
  mpi::agree_or_throw(differs, comm);
}

}  // namespace

bool parse_options(int argc, char** argv, const std::string& usage_line,
                   const po::options_description& desc, po::variables_map& vm) {
  // Every subcommand takes --simd: the kernels' SIMD target (dme/core/simd.h).
  po::options_description all;
  all.add(desc);
  po::options_description common("Common");
  // clang-format off
  common.add_options()
      ("config", po::value<std::string>()->value_name("FILE"),
       "read options from FILE (lines 'name = value', '#' comments; the data/experiments/ files); "
       "options on the command line win")
      ("simd", po::value<std::string>()->value_name("TARGET"),
       "SIMD target of the kernels: auto (the best the CPU has), avx512, avx2, sse4, neon, sve, "
       "sve2, scalar; no better than the machine's (default: $DME_SIMD, else auto)");
  // clang-format on
  all.add(common);
  GivenOptions given;
  std::exception_ptr failure;
  std::string failure_text;
  try {
    given = parse_locally(argc, argv, all, vm);
  } catch (const Error& e) {
    // Every rank parses the same command line (agreed below), so every rank has this error.
    failure = std::make_exception_ptr(Error(e.message(), e.rank(), /*agreed=*/true));
    failure_text = e.message();
  } catch (const po::error& e) {
    failure = std::current_exception();
    failure_text = std::string(e.what()) + " (see --help)";
  }
  // Under mpirun, ranks given different options would run mismatched collectives (a crash or a
  // hang): they agree first. dme-bench runs without MPI.
  const bool under_mpi = world_rank_if_mpi() >= 0;
  if (under_mpi) agree_across_ranks(given, failure, failure_text);
  if (failure) std::rethrow_exception(failure);
  if (vm.count("help")) {  // the same on every rank (agreed above): rank 0 prints it
    if (world_rank_if_mpi() <= 0) std::cout << "Usage: " << usage_line << "\n\n" << all << "\n";
    return false;
  }
  try {
    po::notify(vm);
  } catch (const Error& e) {
    throw Error(e.message(), e.rank(), /*agreed=*/true);  // the same options on every rank
  }
  // The SIMD target (--simd, else $DME_SIMD, which may differ between nodes) is resolved now, so
  // that a rank whose CPU cannot honour it stops every rank instead of leaving them waiting.
  const auto choose_simd = [&] {
    if (vm.count("simd"))
      set_simd_target(vm["simd"].as<std::string>());
    else
      (void)simd_target();
  };
  if (under_mpi)
    mpi::agreed(MPI_COMM_WORLD, choose_simd);
  else
    choose_simd();
  return true;
}

std::vector<std::string> parse_name_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::stringstream ss(item);
    std::string tok;
    while (std::getline(ss, tok, ','))
      if (!tok.empty()) out.push_back(tok);
  }
  return out;
}

std::vector<double> parse_double_list(const std::vector<std::string>& items,
                                      const std::string& option) {
  std::vector<double> out;
  for (const auto& tok : parse_name_list(items)) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DME_CHECK(used == tok.size() && used > 0,
              "--" << option << ": '" << tok << "' is not a number");
    out.push_back(v);
  }
  DME_CHECK(!out.empty(), "--" << option << ": empty list");
  return out;
}

std::vector<int> parse_int_list(const std::vector<std::string>& items, const std::string& option) {
  std::vector<int> out;
  for (const auto& tok : parse_name_list(items)) {
    std::size_t used = 0;
    int v = 0;
    try {
      v = std::stoi(tok, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    DME_CHECK(used == tok.size() && used > 0,
              "--" << option << ": '" << tok << "' is not an integer");
    out.push_back(v);
  }
  DME_CHECK(!out.empty(), "--" << option << ": empty list");
  return out;
}

}  // namespace dme::app
