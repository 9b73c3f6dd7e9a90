#!/usr/bin/env python3
"""Export the real input vectors of data/ from the handwritten-digits dataset that scikit-learn
ships inside its package (no network access at run time).

Writes data/digits.h5, the dataset itself for `dme-experiment train` (float32):
  x_train 1440 x 64, y_train 1440, x_test 357 x 64, y_test 357: pixels scaled to [0, 1], labels
  0..9, split by a fixed random permutation (1440 training images divide among 1..6, 8, 9, 10,
  12, 15, 16 ... ranks evenly)
and data/digits_mlp.h5 (float32 datasets, attributes name the source and the licence):
  weights    1-D, d: the parameters of a 64-128-10 tanh MLP trained on the digits training split
  gradients  2-D, 8 x d: the gradient of the mean cross-entropy on 8 disjoint shards of the
             training split (one row per rank, as `--dist file --dataset gradients` reads them),
             taken at the parameters of step 200 (mid-training: the gradients are not tiny)
  flat layout: W1 (64x128, row-major), b1 (128), W2 (128x10), b2 (10): d = 9610.
Deterministic: the same numpy and scikit-learn versions give the same bytes.

    pip install -r scripts/requirements-data.txt
    python3 scripts/prepare_data.py [-o data/digits_mlp.h5]
"""

import argparse
import os

import h5py
import numpy as np
from sklearn.datasets import load_digits

HIDDEN, CLASSES, SHARDS = 128, 10, 8


def unpack(theta, n_in):
    w1_end = n_in * HIDDEN
    b1_end = w1_end + HIDDEN
    w2_end = b1_end + HIDDEN * CLASSES
    return (theta[:w1_end].reshape(n_in, HIDDEN), theta[w1_end:b1_end],
            theta[b1_end:w2_end].reshape(HIDDEN, CLASSES), theta[w2_end:])


def loss_and_grad(theta, x, y):
    w1, b1, w2, b2 = unpack(theta, x.shape[1])
    h = np.tanh(x @ w1 + b1)
    z = h @ w2 + b2
    z -= z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean()
    dz = p
    dz[np.arange(n), y] -= 1
    dz /= n
    dh = (dz @ w2.T) * (1 - h * h)
    grad = np.concatenate([(x.T @ dh).ravel(), dh.sum(0), (h.T @ dz).ravel(), dz.sum(0)])
    return loss, grad


def write_dataset(path, x, y, train, test):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["source"] = ("scikit-learn's bundled copy of the UCI Optical Recognition of "
                             "Handwritten Digits test set (sklearn.datasets.load_digits)")
        f.attrs["licence"] = "data: CC BY 4.0 (UCI); scikit-learn: BSD-3-Clause"
        f.attrs["layout"] = "x: images x 64 pixels (8x8 row-major) in [0, 1]; y: labels 0..9"
        f.attrs["script"] = "scripts/prepare_data.py"
        for name, rows in (("train", train), ("test", test)):
            f.create_dataset("x_" + name, data=x[rows].astype(np.float32))
            f.create_dataset("y_" + name, data=y[rows].astype(np.float32))
    print(f"{path}: {len(train)} training and {len(test)} test images")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("-o", "--output", default=os.path.join(here, "..", "data", "digits_mlp.h5"))
    p.add_argument("--dataset-output", default=os.path.join(here, "..", "data", "digits.h5"))
    args = p.parse_args()

    digits = load_digits()
    x = digits.data.astype(np.float64) / 16.0  # pixels 0..16 -> 0..1
    y = digits.target.astype(np.int64)
    rng = np.random.default_rng(20261204)
    order = rng.permutation(len(y))
    train, test = order[:1440], order[1440:]
    write_dataset(args.dataset_output, x, y, train, test)
    n_in = x.shape[1]
    d = n_in * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES
    theta = np.concatenate([rng.normal(0, 1 / np.sqrt(n_in), n_in * HIDDEN), np.zeros(HIDDEN),
                            rng.normal(0, 1 / np.sqrt(HIDDEN), HIDDEN * CLASSES),
                            np.zeros(CLASSES)])
    shards = np.array_split(train, SHARDS)
    gradients = None
    for step in range(1, 1501):
        batch = rng.choice(train, 64, replace=False)
        _, g = loss_and_grad(theta, x[batch], y[batch])
        theta -= 0.5 * g
        if step == 200:
            gradients = np.stack([loss_and_grad(theta, x[s], y[s])[1] for s in shards])
    loss, _ = loss_and_grad(theta, x[train], y[train])
    w1, b1, w2, b2 = unpack(theta, n_in)
    accuracy = (np.argmax(np.tanh(x[test] @ w1 + b1) @ w2 + b2, axis=1) == y[test]).mean()

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with h5py.File(args.output, "w") as f:
        f.attrs["source"] = ("scikit-learn's bundled copy of the UCI Optical Recognition of "
                             "Handwritten Digits test set (sklearn.datasets.load_digits)")
        f.attrs["licence"] = "data: CC BY 4.0 (UCI); scikit-learn: BSD-3-Clause"
        f.attrs["model"] = "MLP 64-128-10, tanh, softmax cross-entropy; SGD lr 0.5, batch 64"
        f.attrs["layout"] = "W1 (64x128 row-major), b1 (128), W2 (128x10 row-major), b2 (10)"
        f.attrs["script"] = "scripts/prepare_data.py"
        w = f.create_dataset("weights", data=theta.astype(np.float32))
        w.attrs["description"] = (f"parameters after 1500 SGD steps: train loss {loss:.4f}, "
                                  f"test accuracy {accuracy:.4f}")
        g = f.create_dataset("gradients", data=gradients.astype(np.float32))
        g.attrs["description"] = (f"gradient of the mean loss on each of {SHARDS} disjoint shards "
                                  "of the training split, at the parameters of step 200")
    print(f"{args.output}: d = {d}, {SHARDS} gradient rows; train loss {loss:.4f}, "
          f"test accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
