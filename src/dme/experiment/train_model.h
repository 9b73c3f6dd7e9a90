// The models of `dme-experiment train`: a fully connected network with tanh hidden layers and a
// softmax cross-entropy loss, written out in plain loops (no hidden layer: softmax regression).
// Parameters are one flat float vector, layer after layer: W (in x out, row-major), then b (out),
// which is the vector the ranks average.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace dme {

/// Images and labels of one split of a classification dataset (row-major features).
struct LabelledData {
  std::vector<float> x;  ///< n x features
  std::vector<int> y;    ///< n labels in 0..classes-1
  std::size_t n = 0, features = 0;
};

/// x_<split> and y_<split> of an HDF5 file (data/digits.h5: scripts/prepare_data.py). Throws
/// dme::Error naming the file and the dataset when they are missing or malformed (shapes that
/// disagree, labels that are not whole numbers in 0..classes-1).
LabelledData load_split(const std::string& path, const std::string& split, int classes);

class Mlp {
 public:
  /// sizes = {inputs, hidden..., classes}: {64, 10} is softmax regression, {64, 1000, 64, 10} an
  /// MLP of 129714 parameters.
  explicit Mlp(std::vector<std::size_t> sizes);

  std::size_t parameters() const noexcept { return parameters_; }
  const std::vector<std::size_t>& sizes() const noexcept { return sizes_; }

  /// Glorot-uniform weights and zero biases, the same on every rank for the same seed.
  void init(std::span<float> theta, std::uint64_t seed) const;

  /// Mean cross-entropy over rows [0, n) of x, y; grad (size parameters()) receives its gradient.
  double loss_and_gradient(std::span<const float> theta, const float* x, const int* y,
                           std::size_t n, std::span<float> grad) const;

  /// Rows of x whose largest output is their label.
  std::size_t correct(std::span<const float> theta, const float* x, const int* y,
                      std::size_t n) const;

 private:
  /// Activations of every layer for n rows (the last one the softmax probabilities).
  std::vector<std::vector<float>> forward(std::span<const float> theta, const float* x,
                                          std::size_t n) const;

  std::vector<std::size_t> sizes_;
  std::vector<std::size_t> offsets_;  ///< start of layer l's W; its b follows W
  std::size_t parameters_ = 0;
};

}  // namespace dme
