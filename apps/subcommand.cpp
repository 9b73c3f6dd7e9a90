#include "subcommand.h"

#include <mpi.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include <boost/any.hpp>

#include "dme/core/error.h"
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
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage(argc < 2 ? std::cerr : std::cout, program, summary);
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
        std::cerr << program << " " << name << ": " << e.what() << "\n";
      return 1;
    } catch (const std::exception& e) {
      std::cerr << program << " " << name << ": unexpected error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << program << ": unknown subcommand '" << name << "'\n\n";
  usage(std::cerr, program, summary);
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
  const po::parsed_options parsed = po::command_line_parser(argc, argv).options(all).run();
  po::store(parsed, vm);
  try {
    reject_negative_unsigned(parsed, vm);
    if (vm.count("config") && !vm.count("help")) {
      // Stored after the command line, so that the command line's values win.
      const std::string path = vm["config"].as<std::string>();
      std::ifstream file(path);
      DME_CHECK(file, "cannot read --config file '" << path << "'");
      const po::parsed_options from_file = po::parse_config_file(file, all);
      po::store(from_file, vm);
      reject_negative_unsigned(from_file, vm);
    }
    if (vm.count("help")) {
      std::cout << "Usage: " << usage_line << "\n\n" << all << "\n";
      return false;
    }
    po::notify(vm);
    if (vm.count("simd")) set_simd_target(vm["simd"].as<std::string>());
  } catch (const Error& e) {
    // Every rank parses the same command line, so every rank has this error.
    throw Error(e.message(), e.rank(), /*agreed=*/true);
  }
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
