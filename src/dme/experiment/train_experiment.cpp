#include "dme/experiment/train_experiment.h"

#include <algorithm>
#include <cstring>
#include <iostream>
#include <random>

#include "dme/collective/mean_estimator.h"
#include "dme/core/agree.h"
#include "dme/core/error.h"
#include "dme/core/mpi_helpers.h"
#include "dme/experiment/default_list.h"
#include "dme/experiment/schemes_experiment.h"
#include "dme/experiment/table.h"
#include "dme/experiment/train_model.h"

namespace dme {

namespace {

constexpr int kClasses = 10;

std::vector<std::size_t> model_sizes(const std::string& model, std::size_t features) {
  if (model == "softmax") return {features, kClasses};
  if (model == "mlp") return {features, 1000, 64, kClasses};
  DME_THROW("unknown model '" << model << "' (valid: softmax, mlp)");
}

constexpr std::string_view kPerRank = ":per-rank";

// The options of an estimator at b bits (docs/schemes.md: each scheme as published); a name
// ending in ":per-rank" gives each rank its own rotation.
Options estimator_options(std::string name, int bits, const Options& base) {
  Options o = base;
  o.s = std::size_t(1) << bits;
  if (name.ends_with(kPerRank)) {
    name.resize(name.size() - kPerRank.size());
    o.shared_rotation = false;
  }
  if (name == "asq") {
    o.scheme = Scheme::kAsq;
  } else if (name == "asq-shared") {
    o.scheme = Scheme::kAsqShared;
  } else if (name == "eden") {
    o.scheme = Scheme::kEden;
  } else if (name == "qsgd") {
    o.scheme = Scheme::kQsgd;
  } else if (name == "quic-fl") {
    o.scheme = Scheme::kQuicFl;
  } else if (name == "kmeans") {
    o.scheme = Scheme::kAsq;
    o.solver = Solver::kKmeans;
    o.rounding = Rounding::kAuto;  // nearest: the optimal biased quantizer
  } else {
    DME_THROW("unknown estimator '" << name
                                    << "' (valid: exact, asq, asq-shared, eden, qsgd, quic-fl, "
                                       "kmeans)");
  }
  o = as_published(o);
  validate(o);
  return o;
}

struct Plan {
  std::string estimator;
  int bits;
};

// "exact", or "<estimator>_b<bits>" with ":per-rank" written "-per-rank" (an HDF5 group name).
std::string curve_name(const std::string& estimator, int bits) {
  if (estimator == "exact") return estimator;
  std::string base = estimator;
  if (base.ends_with(kPerRank)) base.replace(base.size() - kPerRank.size(), 1, "-");
  return base + "_b" + std::to_string(bits);
}

// The runs of the sweep: exact, and every other estimator at every budget, each one's options
// checked before any work; of a default --estimators list, those the options refuse are left
// out with a line in `filter` (default_list.h).
std::vector<Plan> make_plans(const TrainExperimentConfig& cfg, DefaultListFilter& filter) {
  std::vector<Plan> plans;
  for (const std::string& e : cfg.estimators) {
    if (e == "exact") {
      plans.push_back({e, 32});
      continue;
    }
    for (int b : cfg.bits) {
      DME_CHECK(b >= 1 && b <= 16, "--bits values must be in 1..16, got " << b);
      if (filter.accepts(
              e, [&] { estimator_options(e, b, cfg.options); }, std::to_string(b)))
        plans.push_back({e, b});
    }
  }
  filter.throw_if_none(plans.empty());
  DME_CHECK(!plans.empty(), "--estimators names no run");
  return plans;
}

DefaultListFilter estimator_filter(const TrainExperimentConfig& cfg) {
  return DefaultListFilter(!cfg.default_estimators, "estimators", "--estimators", "bits");
}

}  // namespace

std::vector<TrainCurve> run_train_sweep(const TrainExperimentConfig& cfg, MPI_Comm comm) {
  const int rank = mpi::comm_rank(comm), n = mpi::comm_size(comm);
  // The checks depend only on the options, alike on every rank (core/agree.h).
  const std::vector<Plan> plans = mpi::alike_everywhere([&] {
    DME_CHECK(cfg.steps >= 1, "--steps must be at least 1, got " << cfg.steps);
    DME_CHECK(cfg.batch >= 0, "--batch must be >= 0 (0: the whole shard), got " << cfg.batch);
    DME_CHECK(cfg.eval_every >= 1, "--eval-every must be at least 1, got " << cfg.eval_every);
    DME_CHECK(cfg.lr > 0 && std::isfinite(cfg.lr), "--lr must be positive, got " << cfg.lr);
    DefaultListFilter filter = estimator_filter(cfg);
    return make_plans(cfg, filter);
  });

  // Data and model, as one agreed step: a bad file ends every rank with the same error.
  LabelledData train, test;
  std::vector<std::size_t> sizes;
  mpi::agreed(comm, [&] {
    train = load_split(cfg.data, "train", kClasses);
    test = load_split(cfg.data, "test", kClasses);
    DME_CHECK(train.features == test.features, cfg.data << ": training and test images have "
                                                        << train.features << " and "
                                                        << test.features << " features");
    DME_CHECK(
        train.n >= static_cast<std::size_t>(n),
        cfg.data << ": " << train.n << " training images cannot be shared by " << n << " ranks");
    sizes = model_sizes(cfg.model, train.features);
  });
  const Mlp model(sizes);
  const std::size_t d = model.parameters();
  // Rank r's shard: rows [r·N/n, (r+1)·N/n) of the (already shuffled) training split.
  const std::size_t lo = train.n * rank / n, hi = train.n * (rank + 1) / n, shard = hi - lo;
  const std::size_t batch = cfg.batch == 0 ? shard : std::min<std::size_t>(cfg.batch, shard);

  Progress progress("train", plans.size() * static_cast<std::size_t>(cfg.steps),
                    !cfg.output.quiet && rank == 0);
  std::vector<TrainCurve> curves;
  for (const Plan& plan : plans) {
    TrainCurve c;
    c.estimator = plan.estimator;
    c.bits = plan.bits;
    c.name = curve_name(plan.estimator, plan.bits);
    const bool exact = plan.estimator == "exact";
    std::unique_ptr<MeanEstimator> est;
    if (!exact)
      est = std::make_unique<MeanEstimator>(
          comm, estimator_options(plan.estimator, plan.bits, cfg.options));
    std::vector<float> theta(d), grad(d), mean(d), xb(batch * train.features);
    std::vector<int> yb(batch);
    model.init(theta, cfg.options.seed);
    // The rank's batches: its shard in a fixed shuffled order, cycled.
    std::vector<std::size_t> order(shard);
    for (std::size_t i = 0; i < shard; ++i) order[i] = lo + i;
    std::mt19937_64 gen(cfg.options.seed * 1000003u + static_cast<std::uint64_t>(rank));
    std::shuffle(order.begin(), order.end(), gen);
    const auto evaluate = [&](int step) {
      const std::size_t hits = model.correct(theta, test.x.data(), test.y.data(), test.n);
      c.eval_step.push_back(step);
      c.test_accuracy.push_back(double(hits) / double(test.n));
    };
    evaluate(0);
    double sent = 0;
    for (int step = 1; step <= cfg.steps; ++step) {
      for (std::size_t j = 0; j < batch; ++j) {
        const std::size_t row = order[(static_cast<std::size_t>(step - 1) * batch + j) % shard];
        std::copy_n(train.x.data() + row * train.features, train.features,
                    xb.data() + j * train.features);
        yb[j] = train.y[row];
      }
      const double loss = model.loss_and_gradient(theta, xb.data(), yb.data(), batch, grad);
      if (exact) {
        DME_MPI_CHECK(
            MPI_Allreduce(grad.data(), mean.data(), static_cast<int>(d), MPI_FLOAT, MPI_SUM, comm));
        for (float& v : mean) v /= float(n);
        sent += 4.0 * double(d);
      } else {
        const Report rep = est->estimate(grad, mean);
        sent += double(rep.payload_bytes);
      }
      const float lr = static_cast<float>(cfg.lr);
      for (std::size_t i = 0; i < d; ++i) theta[i] -= lr * mean[i];
      c.loss.push_back(mpi::allreduce(loss, MPI_SUM, comm) / n);
      c.bytes.push_back(sent);
      if (step % cfg.eval_every == 0 || step == cfg.steps) evaluate(step);
      progress.step();
    }
    c.replicas_identical = mpi::identical_on_all_ranks(theta, comm);
    c.params = std::move(theta);
    curves.push_back(std::move(c));
  }
  return curves;
}

int run_train_experiment(const TrainExperimentConfig& cfg, MPI_Comm comm, std::ostream& os) {
  const int rank = mpi::comm_rank(comm), n = mpi::comm_size(comm);
  DefaultListFilter filter = estimator_filter(cfg);
  std::vector<std::string> names;
  for (const Plan& p : mpi::alike_everywhere([&] { return make_plans(cfg, filter); }))
    names.push_back("train_" +
                    (p.estimator == "exact" ? p.estimator : curve_name(p.estimator, p.bits)));
  check_output(cfg.output, comm, names);
  if (rank == 0)
    for (const std::string& line : filter.lines())  // with --csv on stderr: stdout stays CSV
      (cfg.output.csv ? std::cerr : os) << "# " << line << "\n";
  const std::vector<TrainCurve> curves = run_train_sweep(cfg, comm);
  const std::size_t d = curves.front().params.size();
  double exact_bytes = 4.0 * double(d) * cfg.steps;
  Table table({"ranks", "model", "d", "estimator", "bits", "bits_per_coord", "final_loss",
               "test_accuracy", "bytes_per_rank", "bytes_ratio", "replicas"},
              cfg.output.csv);
  if (rank == 0) table.print_header(os);
  int status = 0;
  std::vector<Run> runs;
  for (const TrainCurve& c : curves) {
    const double total = c.bytes.back();
    const double bits_per_coord = 8.0 * total / cfg.steps / double(d);
    if (rank == 0) {
      table.print_row(os, {static_cast<long long>(n), cfg.model, static_cast<long long>(d),
                           c.estimator, static_cast<long long>(c.bits), bits_per_coord,
                           c.loss.back(), c.test_accuracy.back(), total, exact_bytes / total,
                           std::string(c.replicas_identical ? "identical" : "DIFFER")});
      if (!c.replicas_identical) {
        std::cerr << "FAILED: the model replicas of " << c.name << " differ across ranks\n";
        status = 1;
      }
    }
    std::vector<double> steps(c.loss.size());
    for (std::size_t i = 0; i < steps.size(); ++i) steps[i] = double(i + 1);
    Run run;
    run.name = "train_" + c.name;
    run.parameters["estimator"] = c.estimator;
    run.parameters["bits"] = std::int64_t(c.bits);
    run.parameters["model"] = cfg.model;
    run.parameters["d"] = std::int64_t(d);
    run.parameters["ranks"] = std::int64_t(n);
    run.parameters["batch_per_rank"] = std::int64_t(cfg.batch);
    run.parameters["lr"] = cfg.lr;
    run.parameters["data"] = cfg.data;
    run.parameters["replicas_identical"] = std::int64_t(c.replicas_identical);
    if (c.estimator != "exact")
      run.parameters["options"] = describe(estimator_options(c.estimator, c.bits, cfg.options));
    run.datasets.push_back({"step", steps, {steps.size()}, "1", {}});
    run.datasets.push_back({"loss", c.loss, {c.loss.size()}, "1", {}});
    run.datasets.push_back({"bytes", c.bytes, {c.bytes.size()}, "bytes", {}});
    run.datasets.push_back({"eval_step", c.eval_step, {c.eval_step.size()}, "1", {}});
    run.datasets.push_back({"test_accuracy", c.test_accuracy, {c.test_accuracy.size()}, "1", {}});
    runs.push_back(std::move(run));
  }
  write_output(cfg.output, "dme-experiment train", comm, {cfg.options.seed}, runs);
  return mpi::allreduce(status, MPI_MAX, comm);
}

}  // namespace dme
