// dme-bench codec --log2d 20,24 --s 2,4,10,16,256 [--reps R] [--bucket-size B] [--seed S] [--csv]
#include <iostream>

#include "dme/bench/codec_bench.h"
#include "subcommand.h"

namespace po = boost::program_options;

namespace {

int codec_main(int argc, char** argv) {
  po::options_description desc("dme-bench codec: code packing and payload decoding against memcpy");
  std::vector<std::string> log2d, s;
  dme::CodecBenchConfig config;
  desc.add_options()("help,h", "show this help")(
      "log2d", po::value(&log2d)->multitoken(),
      "log2 of the code counts, e.g. 20,24 (default 20,24)")(
      "s", po::value(&s)->multitoken(), "numbers of levels, e.g. 2,4,10,16,256 (default)")(
      "reps", po::value(&config.reps)->default_value(config.reps),
      "timed repetitions (median reported)")(
      "bucket-size", po::value(&config.bucket_size)->default_value(config.bucket_size),
      "coordinates per bucket of the payload (0: one bucket)")(
      "seed", po::value(&config.seed)->default_value(config.seed), "seed of the codes")(
      "csv", po::bool_switch(&config.csv), "print CSV instead of a table");
  po::variables_map vm;
  if (!dme::app::parse_options(argc, argv, "dme-bench codec [options]", desc, vm)) return 0;
  if (!log2d.empty()) config.log2d = dme::app::parse_int_list(log2d, "log2d");
  if (!s.empty()) config.s = dme::app::parse_int_list(s, "s");
  return dme::run_codec_bench(config, std::cout);
}

}  // namespace

DME_REGISTER_SUBCOMMAND("codec", "code packing, unpacking and decode_accumulate versus memcpy",
                        codec_main);
