// Subcommand registry shared by dme-bench and dme-experiment: each subcommand file registers
// a name, a one-line summary and a main function; main() dispatches on argv[1].
#pragma once

#include <boost/program_options.hpp>

#include <functional>
#include <string>
#include <vector>

namespace dme::app {

using SubcommandMain = std::function<int(int argc, char** argv)>;

struct Subcommand {
  std::string name;
  std::string summary;
  SubcommandMain main;
};

/// Registers a subcommand (called from a static initialiser in its file).
bool register_subcommand(Subcommand sub);

/// Dispatches argv[1] to its subcommand; prints usage for --help or an unknown name. Turns
/// dme::Error and option errors into a message on stderr and exit status 1 (2 for usage).
int dispatch(const std::string& program, const std::string& summary, int argc, char** argv);

/// Parses a subcommand's options; returns false (after printing help) when --help was given.
/// Throws boost::program_options errors on bad options.
bool parse_options(int argc, char** argv, const std::string& usage,
                   const boost::program_options::options_description& desc,
                   boost::program_options::variables_map& vm);

/// Parses "a,b,c" into numbers (also accepts several occurrences of the option).
std::vector<int> parse_int_list(const std::vector<std::string>& items, const std::string& option);
std::vector<std::string> parse_name_list(const std::vector<std::string>& items);
std::vector<double> parse_double_list(const std::vector<std::string>& items,
                                      const std::string& option);

/// The whole command line main() received (program and subcommand included), for provenance.
int full_argc();
char** full_argv();

}  // namespace dme::app

#define DME_CONCAT_INNER(a, b) a##b
#define DME_CONCAT(a, b) DME_CONCAT_INNER(a, b)
#define DME_REGISTER_SUBCOMMAND(name, summary, fn)                           \
  static const bool DME_CONCAT(dme_registered_, __LINE__) [[maybe_unused]] = \
      ::dme::app::register_subcommand({name, summary, fn})
