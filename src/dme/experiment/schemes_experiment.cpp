#include "dme/experiment/schemes_experiment.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <iostream>
#include <map>
#include <string>

#include "dme/collective/mean_estimator.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/experiment/default_list.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/quic_fl.h"

namespace dme {

Options as_published(Options o) {
  if (o.scheme == Scheme::kEden && o.exchange != Exchange::kReduceScatter)
    o.shared_rotation = false;
  if (o.scheme == Scheme::kQsgd) o.rotations = 0;
  // THC sums integer codes on levels agreed before rounding: the exchange that does this.
  if (o.scheme == Scheme::kThc) {
    o.exchange = Exchange::kReduceScatterInt;
    o.shared_rotation = true;
  }
  return o;
}

namespace {

// Whether a scheme has an encoding at b bits, and if not why (its rows are then left out of a
// sweep, with a note): quic-fl's tables are for 1..4 bits only, and only eden spends a
// fractional budget; every other scheme takes any whole b.
const char* undefined_at(Scheme scheme, double bits) {
  if (bits != std::floor(bits))
    return scheme == Scheme::kEden ? nullptr : "only eden spends a fractional budget";
  if (scheme == Scheme::kQuicFl && !QuicFlQuantizer::has_bits(static_cast<unsigned>(bits)))
    return "quic-fl has tables for 1..4 bits";
  return nullptr;
}

// "1" or "1.04": the budget as a name part.
std::string budget_name(double bits) {
  std::ostringstream os;
  os << bits;
  return os.str();
}

std::string run_name(Scheme scheme, double bits, int log2d) {
  std::string b = budget_name(bits);
  std::replace(b.begin(), b.end(), '.', 'p');
  return "schemes_" + std::string(scheme_name(scheme)) + "_b" + b + "_log2d" +
         std::to_string(log2d);
}

Options row_options(const Options& base, Scheme scheme, double bits) {
  Options o = base;
  o.scheme = scheme;
  const double whole = std::floor(bits);
  o.s = std::size_t(1) << static_cast<int>(whole);
  o.fractional_bits = bits - whole;
  return as_published(o);
}

double sum_sq_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

}  // namespace

int run_schemes_experiment(const SchemesExperimentConfig& cfg, MPI_Comm comm, std::ostream& os) {
  const int rank = mpi::comm_rank(comm), n = mpi::comm_size(comm);
  // The checks depend only on the options, alike on every rank (core/agree.h).
  const std::vector<std::pair<Scheme, double>> rows = mpi::alike_everywhere([&] {
    DME_CHECK(cfg.trials >= 1, "--trials must be at least 1, got " << cfg.trials);
    DME_CHECK(!cfg.schemes.empty(), "--schemes needs at least one scheme");
    validate_params(cfg.dist, cfg.params);  // before the table's header
    for (int l : cfg.log2d)
      DME_CHECK(l >= 0 && l <= 30, "--log2d values must be in 0..30, got " << l);
    for (double b : cfg.bits)
      DME_CHECK(b >= 1 && b <= 16,
                "--bits values must be in [1, 16] (s = 2^floor(b) levels), got " << b);
    // The rows (scheme, budget), every row's options checked before any work. Budgets a scheme
    // has no encoding for are left out with one note per scheme and reason; without --schemes,
    // so are the rows whose options the estimator refuses (default_list.h).
    DefaultListFilter filter(!cfg.default_schemes, "schemes", "--schemes", "bits");
    std::vector<std::pair<Scheme, double>> rows;
    for (Scheme scheme : cfg.schemes) {
      std::map<std::string, std::string> left_out;
      for (double b : cfg.bits) {
        if (const char* why = undefined_at(scheme, b)) {
          std::string& list = left_out[why];
          list += (list.empty() ? "" : ", ") + budget_name(b);
          continue;
        }
        if (filter.accepts(
                scheme_name(scheme), [&] { validate(row_options(cfg.options, scheme, b)); },
                budget_name(b)))
          rows.emplace_back(scheme, b);
      }
      if (rank == 0)
        for (const auto& [why, list] : left_out)
          std::cerr << "dme-experiment schemes: " << scheme_name(scheme) << " has no encoding at "
                    << list << " bits (" << why << "): those rows are left out\n";
    }
    if (rank == 0)
      for (const std::string& line : filter.lines())
        std::cerr << "dme-experiment schemes: " << line << "\n";
    filter.throw_if_none(rows.empty());
    DME_CHECK(!rows.empty(), "no scheme of --schemes is defined at the budgets of --bits");
    return rows;
  });
  std::vector<std::string> names;
  for (int l : cfg.log2d)
    for (const auto& [scheme, b] : rows) names.push_back(run_name(scheme, b, l));
  check_output(cfg.output, comm, names);

  Table table({"ranks", "log2d", "scheme", "bits", "s", "rotation", "bits_per_coord", "nmse",
               "vnmse", "encode_ms", "exchange_ms", "decode_ms", "total_ms"},
              cfg.output.csv);
  if (rank == 0) table.print_header(os);
  Progress progress("schemes", names.size(), !cfg.output.quiet && rank == 0);
  int status = 0;
  std::vector<Run> runs;
  for (int l : cfg.log2d) {
    const std::size_t d = std::size_t(1) << l;
    std::vector<float> x, est, own;
    std::vector<double> mean, mine;
    mpi::agreed(comm, [&] {
      x = make_input(cfg.dist, cfg.params, cfg.inputs, d, rank, cfg.options.seed, 0);
      est.resize(d);
      own.resize(d);
      mean.assign(x.begin(), x.end());
      mine.assign(x.begin(), x.end());
    });
    DME_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, mean.data(), static_cast<int>(d), MPI_DOUBLE, MPI_SUM, comm));
    for (double& v : mean) v /= n;
    double norm2 = 0;
    for (float v : x) norm2 += double(v) * v;
    const double mean_norm2 = mpi::allreduce(norm2, MPI_SUM, comm) / n;

    for (const auto& [scheme, b] : rows) {
      const Options o = row_options(cfg.options, scheme, b);
      MeanEstimator estimator(comm, o);
      MeanEstimator alone(MPI_COMM_SELF, o);  // one vector: its own estimate
      std::vector<double> nmse, vnmse, encode_ms, exchange_ms, decode_ms, total_ms;
      Report rep;
      for (int t = 0; t < cfg.trials; ++t) {
        rep = estimator.estimate(x, est);
        const PhaseTimes& pt = rep.times;
        encode_ms.push_back(
            mpi::allreduce(pt.rotate_ms + pt.solve_ms + pt.round_pack_ms, MPI_MAX, comm));
        exchange_ms.push_back(mpi::allreduce(pt.exchange_ms, MPI_MAX, comm));
        decode_ms.push_back(mpi::allreduce(pt.decode_ms + pt.inverse_ms, MPI_MAX, comm));
        total_ms.push_back(mpi::allreduce(pt.total_ms, MPI_MAX, comm));
        nmse.push_back(normalized_error(sum_sq_diff(est, mean), mean_norm2));
        // Every rank must hold rank 0's estimate.
        if (!mpi::identical_on_all_ranks(est, comm) && rank == 0) {
          std::cerr << "FAILED: ranks disagree on the estimate of " << scheme_name(scheme) << " at "
                    << b << " bits, log2d " << l << "\n";
          status = 1;
        }
        alone.estimate(x, own);
        const double v = normalized_error(sum_sq_diff(own, mine), norm2);
        vnmse.push_back(mpi::allreduce(v, MPI_SUM, comm) / n);
      }
      double nmse_avg = 0, vnmse_avg = 0;
      for (double v : nmse) nmse_avg += v / double(nmse.size());
      for (double v : vnmse) vnmse_avg += v / double(vnmse.size());
      const auto bytes = mpi::allreduce(rep.payload_bytes, MPI_MAX, comm);
      const double bits_sent = 8.0 * double(bytes) / double(d);
      const std::string rotation = rep.rotations == 0  ? "none"
                                   : o.shared_rotation ? "shared"
                                                       : "per-rank";
      if (rank == 0) {
        table.print_row(
            os,
            {static_cast<long long>(n), static_cast<long long>(l), std::string(scheme_name(scheme)),
             budget_name(b), static_cast<long long>(o.s), rotation, bits_sent, nmse_avg, vnmse_avg,
             median(encode_ms), median(exchange_ms), median(decode_ms), median(total_ms)});
        if (!std::isfinite(nmse_avg) || !std::isfinite(vnmse_avg)) {
          std::cerr << "FAILED: non-finite error of " << scheme_name(scheme) << " at " << b
                    << " bits, log2d " << l << "\n";
          status = 1;
        }
      }
      Run run;
      run.name = run_name(scheme, b, l);
      run.parameters = describe_input(cfg.dist, cfg.params, cfg.inputs);
      run.parameters["scheme"] = std::string(scheme_name(scheme));
      run.parameters["bits"] = b;
      run.parameters["s"] = std::int64_t(o.s);
      run.parameters["rotation"] = rotation;
      run.parameters["options"] = describe(o);
      run.parameters["ranks"] = std::int64_t(n);
      run.parameters["d"] = std::int64_t(d);
      run.parameters["log2d"] = std::int64_t(l);
      run.datasets.push_back({"bits_per_coord", {bits_sent}, {1}, "bits", {}});
      run.datasets.push_back({"nmse", nmse, {nmse.size()}, "1", {}});
      run.datasets.push_back({"vnmse", vnmse, {vnmse.size()}, "1", {}});
      run.datasets.push_back({"encode_ms", encode_ms, {encode_ms.size()}, "ms", {}});
      run.datasets.push_back({"exchange_ms", exchange_ms, {exchange_ms.size()}, "ms", {}});
      run.datasets.push_back({"decode_ms", decode_ms, {decode_ms.size()}, "ms", {}});
      run.datasets.push_back({"total_ms", total_ms, {total_ms.size()}, "ms", {}});
      runs.push_back(std::move(run));
      progress.step();
    }
  }
  write_output(cfg.output, "dme-experiment schemes", comm, {cfg.options.seed}, runs);
  return mpi::allreduce(status, MPI_MAX, comm);
}

}  // namespace dme
