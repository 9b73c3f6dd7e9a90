#include "dme/experiment/train_model.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "dme/core/error.h"
#include "dme/io/hdf5.h"

namespace dme {

LabelledData load_split(const std::string& path, const std::string& split, int classes) {
  const h5::File file = h5::File::open(path, /*writable=*/false);
  const h5::Group root = h5::Group::root(file);
  const std::string xn = "x_" + split, yn = "y_" + split;
  DME_CHECK(root.has_child(xn) && root.has_child(yn),
            path << ": no datasets '" << xn << "' and '" << yn
                 << "' (make data/digits.h5 with scripts/prepare_data.py)");
  const h5::Dataset xd = h5::Dataset::open(root, xn), yd = h5::Dataset::open(root, yn);
  const auto xdims = xd.dims(), ydims = yd.dims();
  DME_CHECK(xdims.size() == 2 && ydims.size() == 1 && xdims[0] == ydims[0] && xdims[0] > 0,
            path << ": '" << xn << "' must be n x features and '" << yn
                 << "' n labels (n >= 1), got " << xdims.size() << "-D and " << ydims.size()
                 << "-D datasets of " << (xdims.empty() ? 0 : xdims[0]) << " and "
                 << (ydims.empty() ? 0 : ydims[0]) << " rows");
  LabelledData d;
  d.n = xdims[0];
  d.features = xdims[1];
  const std::vector<double> xv = xd.read_doubles(), yv = yd.read_doubles();
  d.x.assign(xv.begin(), xv.end());
  for (std::size_t i = 0; i < d.x.size(); ++i)
    DME_CHECK(std::isfinite(d.x[i]), path << ": '" << xn << "' value " << i << " is " << xv[i]);
  d.y.resize(d.n);
  for (std::size_t i = 0; i < d.n; ++i) {
    DME_CHECK(yv[i] >= 0 && yv[i] < classes && std::floor(yv[i]) == yv[i],
              path << ": label " << i << " of '" << yn << "' is " << yv[i]
                   << ", expected a whole number in 0.." << classes - 1);
    d.y[i] = static_cast<int>(yv[i]);
  }
  return d;
}

Mlp::Mlp(std::vector<std::size_t> sizes) : sizes_(std::move(sizes)) {
  DME_CHECK(sizes_.size() >= 2,
            "a model needs inputs and outputs, got " << sizes_.size() << " layer sizes");
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
    DME_CHECK(sizes_[l] >= 1 && sizes_[l + 1] >= 1, "layer sizes must be at least 1");
    offsets_.push_back(parameters_);
    parameters_ += sizes_[l] * sizes_[l + 1] + sizes_[l + 1];
  }
}

void Mlp::init(std::span<float> theta, std::uint64_t seed) const {
  DME_CHECK(theta.size() == parameters_,
            "init: " << theta.size() << " values for a model of " << parameters_ << " parameters");
  std::mt19937_64 gen(seed);
  for (std::size_t l = 0; l + 1 < sizes_.size(); ++l) {
    const std::size_t in = sizes_[l], out = sizes_[l + 1];
    const float a = static_cast<float>(std::sqrt(6.0 / double(in + out)));
    std::uniform_real_distribution<float> u(-a, a);
    float* w = theta.data() + offsets_[l];
    for (std::size_t i = 0; i < in * out; ++i) w[i] = u(gen);
    std::fill_n(w + in * out, out, 0.0f);
  }
}

std::vector<std::vector<float>> Mlp::forward(std::span<const float> theta, const float* x,
                                             std::size_t n) const {
  const std::size_t layers = sizes_.size() - 1;
  std::vector<std::vector<float>> act(layers);
  const float* in_act = x;
  for (std::size_t l = 0; l < layers; ++l) {
    const std::size_t in = sizes_[l], out = sizes_[l + 1];
    const float* w = theta.data() + offsets_[l];
    const float* b = w + in * out;
    std::vector<float>& z = act[l];
    z.resize(n * out);
    for (std::size_t i = 0; i < n; ++i) {
      float* zi = z.data() + i * out;
      std::copy_n(b, out, zi);
      const float* ai = in_act + i * in;
      for (std::size_t k = 0; k < in; ++k) {
        const float a = ai[k];
        const float* wk = w + k * out;
        for (std::size_t j = 0; j < out; ++j) zi[j] += a * wk[j];
      }
      if (l + 1 < layers) {
        for (std::size_t j = 0; j < out; ++j) zi[j] = std::tanh(zi[j]);
      } else {  // softmax, shifted by the row maximum
        const float m = *std::max_element(zi, zi + out);
        double sum = 0;
        for (std::size_t j = 0; j < out; ++j) sum += zi[j] = std::exp(zi[j] - m);
        for (std::size_t j = 0; j < out; ++j) zi[j] = static_cast<float>(zi[j] / sum);
      }
    }
    in_act = z.data();
  }
  return act;
}

double Mlp::loss_and_gradient(std::span<const float> theta, const float* x, const int* y,
                              std::size_t n, std::span<float> grad) const {
  DME_CHECK(
      theta.size() == parameters_ && grad.size() == parameters_,
      "loss_and_gradient: parameter and gradient vectors must have " << parameters_ << " values");
  DME_CHECK(n >= 1, "loss_and_gradient: no rows");
  const std::vector<std::vector<float>> act = forward(theta, x, n);
  const std::size_t layers = sizes_.size() - 1, classes = sizes_.back();
  double loss = 0;
  // dz of the last layer: (p - onehot(y)) / n.
  std::vector<float> dz(act.back());
  for (std::size_t i = 0; i < n; ++i) {
    loss -= std::log(std::max(double(act.back()[i * classes + y[i]]), 1e-30));
    dz[i * classes + y[i]] -= 1.0f;
  }
  const float inv_n = 1.0f / static_cast<float>(n);
  for (float& v : dz) v *= inv_n;
  std::fill(grad.begin(), grad.end(), 0.0f);
  for (std::size_t l = layers; l-- > 0;) {
    const std::size_t in = sizes_[l], out = sizes_[l + 1];
    const float* a_prev = l == 0 ? x : act[l - 1].data();
    const float* w = theta.data() + offsets_[l];
    float* gw = grad.data() + offsets_[l];
    float* gb = gw + in * out;
    for (std::size_t i = 0; i < n; ++i) {
      const float* dzi = dz.data() + i * out;
      const float* ai = a_prev + i * in;
      for (std::size_t k = 0; k < in; ++k) {
        const float a = ai[k];
        float* gwk = gw + k * out;
        for (std::size_t j = 0; j < out; ++j) gwk[j] += a * dzi[j];
      }
      for (std::size_t j = 0; j < out; ++j) gb[j] += dzi[j];
    }
    if (l == 0) break;
    // dz of layer l - 1: (dz W^T) ⊙ (1 - a²).
    std::vector<float> prev(n * in, 0.0f);
    for (std::size_t i = 0; i < n; ++i) {
      const float* dzi = dz.data() + i * out;
      float* pi = prev.data() + i * in;
      for (std::size_t k = 0; k < in; ++k) {
        const float* wk = w + k * out;
        float s = 0;
        for (std::size_t j = 0; j < out; ++j) s += wk[j] * dzi[j];
        const float a = a_prev[i * in + k];
        pi[k] = s * (1.0f - a * a);
      }
    }
    dz.swap(prev);
  }
  return loss / double(n);
}

std::size_t Mlp::correct(std::span<const float> theta, const float* x, const int* y,
                         std::size_t n) const {
  const std::vector<std::vector<float>> act = forward(theta, x, n);
  const std::size_t classes = sizes_.back();
  std::size_t hits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float* p = act.back().data() + i * classes;
    hits += static_cast<std::size_t>(std::max_element(p, p + classes) - p) ==
            static_cast<std::size_t>(y[i]);
  }
  return hits;
}

}  // namespace dme
