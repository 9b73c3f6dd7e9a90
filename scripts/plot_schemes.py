#!/usr/bin/env python3
"""Plot `dme-experiment schemes --out FILE.h5`: NMSE of the mean estimate against the bits per
coordinate actually sent (side information included), log scale, one line per scheme, error bars
= standard deviation over trials. One panel per vector length found in the file; --metric vnmse
plots the error of one vector estimated alone instead.

Expected picture (LogNormal inputs, docs/schemes.md): every line falls about 4x per bit;
asq-shared below asq everywhere, EDEN lowest.
"""

import numpy as np

import plot_common as pc

SCHEME_STYLE = {
    "asq": dict(color="tab:blue", marker="o"),
    "asq-shared": dict(color="tab:purple", marker="D"),
    "eden": dict(color="tab:red", marker="s"),
    "thc": dict(color="tab:olive", marker="v"),
    "quic-fl": dict(color="tab:green", marker="^"),
}


def plot_panel(ax, runs, metric):
    by_scheme = {}
    for run in runs:
        by_scheme.setdefault(run.params.get("scheme", run.name), []).append(run)
    for scheme, group in sorted(by_scheme.items()):
        group.sort(key=lambda r: float(r.data["bits_per_coord"][0]))
        bits = [float(r.data["bits_per_coord"][0]) for r in group]
        stats = [pc.mean_std(r.data[metric]) for r in group]
        mean = [float(np.ravel(m)[0]) for m, _ in stats]
        std = [float(np.ravel(s)[0]) for _, s in stats]
        rotation = group[0].params.get("rotation", "")
        ax.errorbar(bits, mean, yerr=std, capsize=3, label=f"{scheme} ({rotation} rotation)",
                    **SCHEME_STYLE.get(scheme, {}))
    ax.set_yscale("log")
    ax.set_xlabel("bits per coordinate as sent")
    ax.set_ylabel(r"NMSE  $\|\hat{\bar x}-\bar x\|^2 \,/\, \frac{1}{n}\sum_r \|x_r\|^2$"
                  if metric == "nmse" else r"vNMSE  $\|\hat x - x\|^2 / \|x\|^2$ (one vector)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)


def main():
    p = pc.parser(__doc__.split("\n")[0], "schemes.png")
    p.add_argument("--metric", choices=["nmse", "vnmse"], default="nmse",
                   help="nmse: the mean of the ranks' vectors; vnmse: one vector alone")
    args = p.parse_args()
    runs = pc.load_runs(args.input, "schemes_", args.tag)
    panels = {}
    for run in runs:
        panels.setdefault(int(run.params.get("d", 0)), []).append(run)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.3), squeeze=False)
    for ax, (d, group) in zip(axes[0], sorted(panels.items())):
        plot_panel(ax, group, args.metric)
        r = group[0].params
        ax.set_title(f"d={d}, n={r.get('ranks')}, {r.get('distribution', '')} "
                     f"({r.get('input_mode', '?')} inputs)", fontsize=9)
    fig.suptitle(args.title or "Error against bits per coordinate, by scheme "
                 f"({int(np.asarray(runs[0].data[args.metric]).shape[-1])} trials, ±1 std)")
    pc.save(fig, pc.output_path(args, "schemes.png"), args.dpi)


if __name__ == "__main__":
    main()
