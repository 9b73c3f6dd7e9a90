#!/usr/bin/env python3
"""Plot `dme-experiment gaussianity --out FILE.h5`: distance of a rotated coordinate
√D·(R_k x)_j/‖x‖ to N(0,1) versus D for k = 1, 2, 3 RHTs, one column per input.

Rows: Kolmogorov distance, Wasserstein-1 distance, and the dependence between two coordinates
(rms over coordinate pairs of the covariance of their squares). Log-log axes; the grey band is
the sampling floor of the Kolmogorov distance, the dotted line a D^-1/2 guide. Expected picture:
one RHT leaves sparse inputs (one-hot, two-hot) far from Gaussian at every D; two RHTs decay like
D^-1/2 for every input.
"""

import numpy as np

import plot_common as pc

ROWS = [("kolmogorov", "Kolmogorov distance to N(0,1)"),
        ("w1", "W1 distance to N(0,1)"),
        ("cov2_rms", "rms cov(z_a², z_b²)")]
COLOURS = {1: "tab:red", 2: "tab:blue", 3: "tab:green"}


def input_label(run):
    dist = run.params.get("distribution", run.name)
    if dist == "lognormal":
        return f"lognormal(σ={run.params.get('sigma')})"
    return dist


def slope(log2d, values):
    ok = values > 0
    if ok.sum() < 2:
        return float("nan")
    return np.polyfit(np.log(2.0 ** log2d[ok]), np.log(values[ok]), 1)[0]


def plot_cell(ax, run, metric, first_row):
    log2d = run.data["log2d"]
    dims = 2.0 ** log2d
    for i, k in enumerate(run.data["rotations"].astype(int)):
        values = run.data[metric][i]
        label = f"{k} RHT" + ("s" if k > 1 else "")
        if metric == "kolmogorov":
            label += f" (slope {slope(log2d, values):.2f})"
        ax.plot(dims, np.where(values > 0, values, np.nan), marker="o", ms=3,
                color=COLOURS.get(k), label=label)
    if metric == "kolmogorov" and "kolmogorov_floor" in run.data:
        ax.fill_between(dims, 1e-9, run.data["kolmogorov_floor"], color="0.85",
                        label="sampling floor")
    if first_row:
        guide = run.data["kolmogorov"][min(1, len(run.data["kolmogorov"]) - 1)][0]
        ax.plot(dims, guide * np.sqrt(dims[0] / dims), ":", color="0.4", label="D^-1/2")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)


def main():
    p = pc.parser(__doc__.split("\n")[0], "gaussianity.png")
    args = p.parse_args()
    runs = pc.load_runs(args.input, "gaussianity_")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(ROWS), len(runs), figsize=(3.6 * len(runs), 3.0 * len(ROWS)),
                             squeeze=False, sharex="col")
    for col, run in enumerate(runs):
        for row, (metric, ylabel) in enumerate(ROWS):
            ax = axes[row][col]
            plot_cell(ax, run, metric, row == 0)
            if col == 0:
                ax.set_ylabel(ylabel)
            if row == 0:
                choice = run.data.get("adaptive_count")
                chosen = "" if choice is None else f"; adaptive: {int(choice[-1])}"
                ax.set_title(f"{input_label(run)}{chosen}", fontsize=10)
                ax.legend(fontsize=7)
            if row == len(ROWS) - 1:
                ax.set_xlabel("D (padded length)")
    seeds = runs[0].params.get("seeds", "?")
    fig.suptitle(args.title or f"Gaussianity of RHT-rotated coordinates ({seeds} seeds per point)")
    pc.save(fig, pc.output_path(args, "gaussianity.png"), args.dpi)


if __name__ == "__main__":
    main()
