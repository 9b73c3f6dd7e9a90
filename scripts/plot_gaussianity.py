#!/usr/bin/env python3
"""Plot `dme-experiment gaussianity --out FILE.h5`: distance of a rotated coordinate
√D·(R_k x)_j/‖x‖ to N(0,1) versus D for k = 1, 2, 3 RHTs, one column per input.

Rows: Kolmogorov distance, Wasserstein-1 distance, and the covariance between two coordinates
across seeds (rms over coordinate pairs). Log-log axes; dashed grey lines are sampling floors,
the dotted line a D^-1/2 guide. Expected picture:
one RHT leaves sparse inputs (one-hot, two-hot) far from Gaussian at every D; two RHTs decay like
D^-1/2 for every input.
"""

import numpy as np

import plot_common as pc

ROWS = [("kolmogorov", "Kolmogorov distance to N(0,1)"),
        ("w1", "W1 distance to N(0,1)"),
        ("cov_rms", "rms cov(z_a, z_b) over pairs")]
COLOURS = {1: "tab:red", 2: "tab:blue", 3: "tab:green"}


def input_label(run):
    dist = run.params.get("distribution", run.name)
    if dist == "lognormal":
        return f"lognormal(σ={run.params.get('sigma')})"
    return dist


def slope_label(run, i):
    """The fitted slope the experiment stored (resolved points only: K above 2x the floor)."""
    slopes = run.data.get("kolmogorov_slope")
    if slopes is None or not np.isfinite(slopes[i]):
        return " (at floor)"
    return f" (slope {slopes[i]:.2f})"


def plot_cell(ax, run, metric, seeds):
    log2d = run.data["log2d"]
    dims = 2.0 ** log2d
    for i, k in enumerate(run.data["rotations"].astype(int)):
        values = run.data[metric][i]
        label = f"{k} RHT" + ("s" if k > 1 else "")
        if metric == "kolmogorov":
            label += slope_label(run, i)
        ax.plot(dims, np.where(values > 0, values, np.nan), marker="o", ms=3,
                color=COLOURS.get(k), label=label)
    if metric == "kolmogorov":
        ax.plot(dims, run.data["kolmogorov_floor"], "--", color="0.5", label="sampling floor")
        ks = list(run.data["rotations"].astype(int))
        anchor = run.data["kolmogorov"][ks.index(2) if 2 in ks else 0][0]
        ax.plot(dims, anchor * np.sqrt(dims[0] / dims), ":", color="0.3", label="D^-1/2")
    if metric == "cov_rms" and seeds:
        ax.axhline(1 / np.sqrt(seeds), ls="--", color="0.5", label="noise floor 1/√seeds")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.grid(True, which="both", alpha=0.3)


def main():
    p = pc.parser(__doc__.split("\n")[0], "gaussianity.png")
    args = p.parse_args()
    runs = pc.load_runs(args.input, "gaussianity_", args.tag)
    import matplotlib.pyplot as plt

    seeds = runs[0].params.get("seeds")
    fig, axes = plt.subplots(len(ROWS), len(runs), figsize=(3.6 * len(runs), 3.0 * len(ROWS)),
                             squeeze=False, sharex="col")
    for col, run in enumerate(runs):
        for row, (metric, ylabel) in enumerate(ROWS):
            ax = axes[row][col]
            plot_cell(ax, run, metric, seeds)
            if col == 0:
                ax.set_ylabel(ylabel)
            if row in (0, len(ROWS) - 1):
                ax.legend(fontsize=7)
            if row == 0:
                choice = run.data.get("adaptive_count")
                chosen = "" if choice is None else f"; adaptive: {int(choice[-1])}"
                ax.set_title(f"{input_label(run)}{chosen}", fontsize=10)
            if row == len(ROWS) - 1:
                ax.set_xlabel("D (padded length)")
    fig.suptitle(args.title or f"Gaussianity of RHT-rotated coordinates ({seeds} seeds per point)")
    pc.save(fig, pc.output_path(args, "gaussianity.png"), args.dpi)


if __name__ == "__main__":
    main()
