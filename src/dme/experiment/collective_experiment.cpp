#include "dme/experiment/collective_experiment.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "dme/collective/mean_estimator.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/core/timer.h"
#include "dme/experiment/default_list.h"
#include "dme/experiment/table.h"
#include "dme/experiment/timing.h"
#include "dme/quantization/metrics.h"
#include "dme/quantization/quic_fl.h"
#include "dme/rotation/rht.h"

namespace dme {

namespace {

// Slowest rank's time of one collective step: what the job waits for.
double max_over_ranks(double ms, MPI_Comm comm) {
  return mpi::allreduce(ms, MPI_MAX, comm);
}

// How many ranks hold an estimate whose bits differ from rank 0's.
int ranks_differing(const std::vector<float>& mine, MPI_Comm comm) {
  std::vector<float> root(mine);
  DME_MPI_CHECK(MPI_Bcast(root.data(), static_cast<int>(root.size()), MPI_FLOAT, 0, comm));
  const int differs = std::memcmp(root.data(), mine.data(), 4 * mine.size()) != 0;
  return mpi::allreduce(differs, MPI_SUM, comm);
}

// The emulated link of scripts/netem/netem.sh, when this job runs inside it.
void add_link_parameters(Run& run) {
  if (const char* rate = std::getenv("DME_NETEM_RATE")) run.parameters["link"] = std::string(rate);
  if (const char* gbps = std::getenv("DME_NETEM_TCP_GBPS")) {
    char* end = nullptr;
    const double v = std::strtod(gbps, &end);
    if (end != gbps && std::isfinite(v)) run.parameters["link_tcp_gbps"] = v;
  }
}

// The nominal rate of the emulated link (DME_NETEM_RATE, in tc's notation: "1gbit", "500mbit"),
// in bit/s; 0 outside scripts/netem or when it does not parse.
double link_bits_per_second() {
  const char* rate = std::getenv("DME_NETEM_RATE");
  if (rate == nullptr) return 0.0;
  char* end = nullptr;
  const double v = std::strtod(rate, &end);
  if (end == rate || !(v > 0.0) || !std::isfinite(v)) return 0.0;
  const std::string unit(end);
  const double scale = unit == "gbit" ? 1e9 : unit == "mbit" ? 1e6 : unit == "kbit" ? 1e3 : 0.0;
  return v * scale;
}

// Upper bound on E‖x̄̂ − x̄‖²: stochastic rounding between optimal (or uniform) levels moves a
// rotated coordinate with variance ≤ Δ²/4, Δ = range/(s−1) on uniform levels, which the optimal
// levels never exceed in total (nor the squared error of nearest rounding to the optimal biased
// levels); ranks are independent, so the mean's variance is the sum / n² (biased: see below).
// Reduce-scatter quantises a second time (the averaged chunk), whose range is within the ranks'
// joint range and whose error does not shrink with n; a compressed downlink rounds the mean
// itself once more. quic-fl's bound comes from its table instead.
double variance_bound(const std::vector<float>& x, const Options& o, std::uint32_t round,
                      int rotations, MPI_Comm comm) {
  const std::uint32_t stream = rotation_stream(o.shared_rotation, mpi::comm_rank(comm));
  Rotation rot(o.seed, round, rotations, x.size(), stream, resolved_layout(o), o.rotation_block);
  // In double: the rotated vector of an input near the float32 limit may not fit in float.
  const std::vector<double> wide(x.begin(), x.end());
  std::vector<double> y(rot.padded());
  rot.forward(std::span<const double>(wide), std::span<double>(y));
  auto [lo, hi] = std::minmax_element(y.begin(), y.end());
  const double n = mpi::comm_size(comm);
  if (o.scheme == Scheme::kQuicFl) {
    // quic-fl: a coordinate's error variance is at most σ² times the table's worst grid-point
    // variance plus the grid rounding's step²/4 (exact coordinates: none), σ² = ‖y‖² / D per
    // payload, so at most ‖y‖² times that per rank. A second rounding (reduce-scatter's owners,
    // the compressed downlink) of the mean, whose norm is at most the ranks' largest, adds the
    // largest rank's.
    const QuicFlQuantizer& q = QuicFlQuantizer::get(static_cast<unsigned>(std::countr_zero(o.s)));
    double worst = 0;
    for (std::size_t j = 0; j < QuicFlQuantizer::kGridPoints; ++j)
      worst = std::max(worst, q.grid_variance(j));
    double norm2 = 0;
    for (double v : y) norm2 += v * v;
    const double per_norm2 = worst + q.grid_step() * q.grid_step() / 4;
    double total = mpi::allreduce(norm2 * per_norm2, MPI_SUM, comm) / (n * n);
    // The second rounding's vector (the decoded mean) has, in expectation, at most the ranks'
    // largest norm² plus the first rounding's error.
    if (o.exchange == Exchange::kReduceScatter || o.compressed_downlink)
      total += (mpi::allreduce(norm2, MPI_MAX, comm) + total) * per_norm2;
    return total;
  }
  // qsgd's grid spans [-‖bucket‖₂, ‖bucket‖₂], wider than the range: its step, bounded with
  // the whole vector's norm. alq's and amq's levels are the bucket's norm times magnitudes in
  // [0, 1] (docs/algorithms.md §6.6-6.7), not fitted to the range: with zero a level (s >= 3)
  // a gap is at most the norm, at s = 2 (levels ±norm) twice the norm.
  const bool norm_levels =
      scheme_solves_levels(o.scheme) && (o.solver == Solver::kAlq || o.solver == Solver::kAmq);
  const auto norm_step = [&](double norm) {
    return o.scheme == Scheme::kQsgd ? 2 * norm / double(o.s - 1) : (o.s == 2 ? 2 : 1) * norm;
  };
  double norm2 = 0;
  if (o.scheme == Scheme::kQsgd || norm_levels)
    for (double v : y) norm2 += v * v;
  double delta = o.scheme == Scheme::kQsgd || norm_levels ? norm_step(std::sqrt(norm2))
                                                          : (*hi - *lo) / double(o.s - 1);
  // reduce-scatter-int: every rank rounds to its chunk owner's levels, on a grid of 2s points
  // over the ranks' joint range (a rank's own range can be far narrower: d = 1 on 3 ranks, or
  // inputs of unequal scale); the owner's levels are not optimal for another rank's values, so
  // its gaps may be wider than the uniform ones: allow twice the uniform step on the joint range.
  if (o.exchange == Exchange::kReduceScatterInt) {
    delta = 2 * (mpi::allreduce(*hi, MPI_MAX, comm) - mpi::allreduce(*lo, MPI_MIN, comm)) /
            double(o.s - 1);
    // alq's and amq's levels there follow the norm of what the owner solves for, at most the
    // ranks' joint norm: twice its gap, as for the range.
    if (norm_levels)
      delta = std::max(delta, 2 * norm_step(std::sqrt(mpi::allreduce(norm2, MPI_SUM, comm))));
  }
  double local = double(y.size()) * delta * delta / 4;
  // Unbiased (stochastic) roundings of independent ranks add in variance: the sum / n². Biased
  // (nearest) ones may err alike on every rank (identical inputs), so only the triangle
  // inequality holds: ‖Σ e_r / n‖² <= (Σ ‖e_r‖ / n)². A second rounding's error adds the same
  // way: in variance, or at most (‖e_1‖ + ‖e_2‖)².
  const bool biased = uses_nearest_rounding(o);
  // (biased is the same on every rank: each rank makes the same one reduction)
  double total = biased ? std::pow(mpi::allreduce(std::sqrt(local), MPI_SUM, comm) / n, 2)
                        : mpi::allreduce(local, MPI_SUM, comm) / (n * n);
  const auto add = [&](double second) {
    total = biased ? std::pow(std::sqrt(total) + std::sqrt(second), 2) : total + second;
  };
  if (o.exchange == Exchange::kReduceScatter) {
    // qsgd's second grid spans the norm of the decoded average, which in expectation is at most
    // the ranks' largest norm² plus the first rounding's error (qsgd's error is large, so the
    // second grid is much coarser than the first).
    const double joint =
        o.scheme == Scheme::kQsgd || norm_levels
            ? norm_step(std::sqrt(mpi::allreduce(norm2, MPI_MAX, comm) + total))
            : (mpi::allreduce(*hi, MPI_MAX, comm) - mpi::allreduce(*lo, MPI_MIN, comm)) /
                  double(o.s - 1);
    add(double(y.size()) * joint * joint / 4);
  }
  // A compressed downlink rounds the mean once more, whose range is within the ranks' largest.
  // Pipelined, the root rounds it to its own levels (widened to every rank's range), which are
  // not optimal for the mean: only their span, the ranks' joint range, bounds a gap.
  if (o.compressed_downlink && o.pipeline_chunks > 1) {
    const double joint = mpi::allreduce(*hi, MPI_MAX, comm) - mpi::allreduce(*lo, MPI_MIN, comm);
    add(double(y.size()) * joint * joint / 4);
  } else if (o.compressed_downlink && (o.scheme == Scheme::kQsgd || norm_levels)) {
    // as reduce-scatter's
    const double step = norm_step(std::sqrt(mpi::allreduce(norm2, MPI_MAX, comm) + total));
    add(double(y.size()) * step * step / 4);
  } else if (o.compressed_downlink) {
    add(mpi::allreduce(local, MPI_MAX, comm));
  }
  return total;
}

// The options of an exchange's rows: the compressed downlink is gather-bcast's option and
// pipelining (--pipeline) allgather's and the compressed downlink's, so the other exchanges run
// without them (one payload).
Options row_options(const Options& base, Exchange ex) {
  Options o = base;
  o.exchange = ex;
  o.compressed_downlink = base.compressed_downlink && ex == Exchange::kGatherBcast;
  if (ex != Exchange::kAllgather && !o.compressed_downlink) o.pipeline_chunks = 1;
  return o;
}

std::string run_name(Exchange ex, int log2d) {
  return "collective_" + std::string(exchange_name(ex)) + "_log2d" + std::to_string(log2d);
}

}  // namespace

int run_collective_experiment(const CollectiveExperimentConfig& cfg, MPI_Comm comm,
                              std::ostream& os) {
  const int rank = mpi::comm_rank(comm), n = mpi::comm_size(comm);
  // The checks depend only on the options, alike on every rank (core/agree.h).
  DefaultListFilter filter(!cfg.default_exchanges, "exchanges", "--exchange");
  const std::vector<Exchange> exchanges = mpi::alike_everywhere([&] {
    DME_CHECK(cfg.trials >= 1, "--trials must be at least 1, got " << cfg.trials);
    for (int l : cfg.log2d)
      DME_CHECK(l >= 0 && l <= 30, "--log2d values must be in 0..30, got " << l);
    validate_params(cfg.dist, cfg.params);  // before the table's header
    // Every row's options (scheme and exchange), first.
    std::vector<Exchange> exchanges;
    for (Exchange ex : cfg.exchanges)
      if (filter.accepts(exchange_name(ex), [&] { validate(row_options(cfg.options, ex)); }))
        exchanges.push_back(ex);
    filter.throw_if_none(exchanges.empty());
    return exchanges;
  });
  std::vector<std::string> names;
  for (int l : cfg.log2d)
    for (Exchange ex : exchanges) names.push_back(run_name(ex, l));
  check_output(cfg.output, comm, names);

  Table table({"ranks", "log2d", "exchange", "compressed_ms", "allreduce_ms", "speedup",
               "algbw_GBps", "busbw_GBps", "bytes_per_rank", "compression", "recv_bits",
               "reduce_bits", "side_bits", "nmse", "ranks_differ", "wire_x"},
              cfg.output.csv);
  const double link_rate = link_bits_per_second();
  if (rank == 0)
    for (const std::string& why : filter.lines())  // with --csv on stderr: stdout stays CSV
      (cfg.output.csv ? std::cerr : os) << "# " << why << "\n";
  if (rank == 0 && !cfg.output.csv) {
    os << "# comparing the ranks' estimates and their error happen outside the timed region\n";
    os << "# wire_x: compressed_ms over the wire time of the busiest link direction's bytes at the "
          "link's nominal rate ("
       << (link_rate > 0 ? std::getenv("DME_NETEM_RATE")
                         : std::string("only on scripts/netem's links; '-' here"))
       << ")\n";
  }
  if (rank == 0) table.print_header(os);
  Progress progress("collective", cfg.log2d.size() * exchanges.size(),
                    !cfg.output.quiet && rank == 0);
  int status = 0;
  std::vector<Run> runs;
  for (int l : cfg.log2d) {
    const std::size_t d = std::size_t(1) << l;
    // Inputs and buffers are made as one agreed step: a rank whose file row is bad, or which
    // runs out of memory, ends every rank with its error before the first collective call.
    std::vector<float> x, sum, mean, est;
    std::vector<double> ref;  // the exact mean, in double (float32 sums of huge inputs overflow)
    mpi::agreed(comm, [&] {
      x = make_input(cfg.dist, cfg.params, cfg.inputs, d, rank, cfg.options.seed, 0);
      sum.resize(d);
      mean.resize(d);
      est.resize(d);
      ref.assign(x.begin(), x.end());
    });
    DME_MPI_CHECK(
        MPI_Allreduce(MPI_IN_PLACE, ref.data(), static_cast<int>(d), MPI_DOUBLE, MPI_SUM, comm));
    for (double& v : ref) v /= n;
    std::vector<double> allreduce_ms;
    for (int t = 0; t < cfg.trials + 1; ++t) {  // the first is a warm-up
      DME_MPI_CHECK(MPI_Barrier(comm));
      Timer timer;
      DME_MPI_CHECK(
          MPI_Allreduce(x.data(), sum.data(), static_cast<int>(d), MPI_FLOAT, MPI_SUM, comm));
      for (std::size_t i = 0; i < d; ++i) mean[i] = sum[i] / float(n);
      const double ms = max_over_ranks(timer.elapsed_ms(), comm);
      if (t > 0) allreduce_ms.push_back(ms);
    }
    double norm2 = 0;
    for (float v : x) norm2 += double(v) * v;
    const double mean_norm2 = mpi::allreduce(norm2, MPI_SUM, comm) / n;

    for (Exchange ex : exchanges) {
      const Options o = row_options(cfg.options, ex);
      MeanEstimator estimator(comm, o);
      std::vector<double> ms, nmse_trials;
      std::vector<double> phase[5];  // rotate, encode, exchange, decode, inverse
      double bound = 0;
      int differ = 0;
      Report rep;
      for (int t = 0; t < cfg.trials + 1; ++t) {
        DME_MPI_CHECK(MPI_Barrier(comm));
        Timer timer;
        rep = estimator.estimate(x, est);
        const double elapsed = max_over_ranks(timer.elapsed_ms(), comm);
        if (t == 0) continue;
        ms.push_back(elapsed);
        const PhaseTimes& p = rep.times;
        const double phases[5] = {p.rotate_ms, p.solve_ms + p.round_pack_ms, p.exchange_ms,
                                  p.decode_ms, p.inverse_ms};
        for (int k = 0; k < 5; ++k) phase[k].push_back(max_over_ranks(phases[k], comm));
        double err = 0;
        for (std::size_t i = 0; i < d; ++i) err += (est[i] - ref[i]) * (est[i] - ref[i]);
        nmse_trials.push_back(normalized_error(err, mean_norm2));  // 0 for an exact zero mean
        bound +=
            normalized_error(variance_bound(x, o, rep.round, rep.rotations, comm), mean_norm2) /
            cfg.trials;
        differ = std::max(differ, ranks_differing(est, comm));
      }
      double nmse = 0;
      for (double v : nmse_trials) nmse += v / double(nmse_trials.size());
      const double cms = median(ms), ams = median(allreduce_ms);
      const auto bytes = static_cast<long long>(mpi::allreduce(rep.payload_bytes, MPI_MAX, comm));
      // Received per coordinate, the most of any rank: payloads (and their reduce stage's part)
      // and side information.
      const auto per_coord = [&](std::uint64_t v) {
        return 8.0 * double(mpi::allreduce(v, MPI_MAX, comm)) / double(d);
      };
      const double recv_bits = per_coord(rep.payload_bytes_received);
      const double reduce_bits = per_coord(rep.reduce_bytes_received);
      const double side_bits = per_coord(rep.metadata_bytes_received);
      const double sent_bits = per_coord(rep.payload_bytes_sent);
      // The busiest direction of the busiest rank's link, payloads and side information, at the
      // link's nominal rate.
      const double wire_ms =
          link_rate > 0 ? (std::max(recv_bits, sent_bits) + side_bits) * double(d) / link_rate * 1e3
                        : 0.0;
      if (rank == 0) {
        const double algbw = 4.0 * double(d) / (cms * 1e6);  // GB/s of the float32 vector
        table.print_row(
            os, {static_cast<long long>(n), static_cast<long long>(l),
                 std::string(exchange_name(ex)), cms, ams, ams / cms, algbw,
                 algbw * 2.0 * (n - 1) / n, bytes, bytes ? double(4 * d) / double(bytes) : 0.0,
                 recv_bits, reduce_bits, side_bits, nmse, static_cast<long long>(differ),
                 wire_ms > 0 ? Table::Cell(cms / wire_ms) : Table::Cell(std::string("-"))});
        if (differ != 0) {
          std::cerr << "FAILED: " << differ << " ranks hold an estimate other than rank 0's for "
                    << exchange_name(ex) << " at log2d " << l << "\n";
          status = 1;
        }
        // 1e-12: the float32 rounding of an estimate that is exact in exact arithmetic (d = 1).
        if (nmse > 4 * bound + 1e-12) {
          std::cerr << "FAILED: nmse " << nmse << " exceeds 4x the stochastic-rounding bound "
                    << bound << " for " << exchange_name(ex) << " at log2d " << l << "\n";
          status = 1;
        }
      }
      Run run;
      run.name = run_name(ex, l);
      run.parameters = describe_input(cfg.dist, cfg.params, cfg.inputs);
      run.parameters["exchange"] = std::string(exchange_name(ex));
      run.parameters["options"] = describe(o);
      run.parameters["ranks"] = std::int64_t(n);
      run.parameters["d"] = std::int64_t(d);
      run.parameters["s"] = std::int64_t(o.s);
      run.parameters["rotations"] = std::int64_t(rep.rotations);
      run.parameters["threads"] = std::int64_t(o.threads);
      run.parameters["pipeline_chunks"] = std::int64_t(o.pipeline_chunks);
      run.datasets.push_back({"compressed_ms", ms, {ms.size()}, "ms", {}});
      run.datasets.push_back({"allreduce_ms", allreduce_ms, {allreduce_ms.size()}, "ms", {}});
      run.datasets.push_back({"nmse", nmse_trials, {nmse_trials.size()}, "1", {}});
      run.datasets.push_back({"bytes_per_rank", {double(bytes)}, {1}, "bytes", {}});
      run.datasets.push_back({"recv_bits_per_coord", {recv_bits}, {1}, "bits", {}});
      run.datasets.push_back({"reduce_bits_per_coord", {reduce_bits}, {1}, "bits", {}});
      run.datasets.push_back({"side_bits_per_coord", {side_bits}, {1}, "bits", {}});
      run.datasets.push_back({"sent_bits_per_coord", {sent_bits}, {1}, "bits", {}});
      const char* phase_names[5] = {"rotate_ms", "encode_ms", "exchange_ms", "decode_ms",
                                    "inverse_ms"};
      for (int k = 0; k < 5; ++k)
        run.datasets.push_back({phase_names[k], phase[k], {phase[k].size()}, "ms", {}});
      if (wire_ms > 0) run.datasets.push_back({"wire_ms", {wire_ms}, {1}, "ms", {}});
      add_link_parameters(run);
      runs.push_back(std::move(run));
      progress.step();
    }
  }
  write_output(cfg.output, "dme-experiment collective", comm, {cfg.options.seed}, runs);
  return mpi::allreduce(status, MPI_MAX, comm);
}

}  // namespace dme
