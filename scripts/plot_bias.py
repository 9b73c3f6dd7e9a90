#!/usr/bin/env python3
"""Plot `dme-experiment bias --out FILE.h5`: NMSE of the mean estimate versus the number of
ranks n, one line per quantizer (biased dashed), error bars = standard deviation over trials,
log-log axes as in the QUIVER paper's Figure 1b, with a 1/n guide. One panel per rotation
setting and exchange found in the file (e.g. --rotations 0,2 gives two panels, and
--exchange allgather,reduce-scatter doubles them).

Expected picture with identical inputs: biased lines flat, unbiased lines falling like 1/n,
crossing between n = 1 and n = 8.
"""

import numpy as np

import plot_common as pc


def panel_key(run):
    return (str(run.params.get("rotations", "0")), int(run.params.get("shared_rotation", 1)),
            str(run.params.get("exchange", "allgather")))


def panel_title(key):
    rotations, shared, exchange = key
    suffix = "" if exchange == "allgather" else f", {exchange}"
    if rotations == "0":
        return "no rotation" + suffix
    return f"{rotations} RHT" + ("s" if rotations != "1" else "") + (
        ", shared seed" if shared else ", per-rank seeds") + suffix


def plot_panel(ax, runs, metric):
    unbiased_starts = []
    for run in runs:
        ranks = run.data["ranks"]
        mean, std = pc.mean_std(run.data[metric])
        q, biased = run.params.get("quantizer", run.name), bool(run.params.get("biased", 0))
        ax.errorbar(ranks, mean, yerr=std, capsize=3, **pc.style(q, biased))
        if not biased and len(ranks) > 1 and mean[0] > 0:
            unbiased_starts.append((float(mean[0]), ranks))
    if unbiased_starts:
        # The unbiased lines themselves fall as 1/n, so a guide through one of them hides under
        # it: draw it a factor 3 below the lowest of them, black and dotted, on top.
        start, ranks = min(unbiased_starts, key=lambda t: t[0])
        ranks = np.asarray(ranks, dtype=float)
        ax.plot(ranks, start / 3 * ranks[0] / ranks, ":", color="k", linewidth=1.6, zorder=5,
                label="1/n guide (slope -1)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(runs[0].data["ranks"])
    ax.set_xticklabels([str(int(n)) for n in runs[0].data["ranks"]])
    ax.set_xlabel("ranks n (identical inputs)" if runs[0].params.get("input_mode") == "identical"
                  else f"ranks n ({runs[0].params.get('input_mode', '?')} inputs)")
    ax.set_ylabel(r"NMSE  $\|\hat{\bar x}-\bar x\|^2 \,/\, \frac{1}{n}\sum_r \|x_r\|^2$"
                  if metric == "nmse" else r"$\|\hat{\bar x}-\bar x\|^2 \,/\, \|\bar x\|^2$")
    ax.grid(True, which="both", alpha=0.3)


def main():
    p = pc.parser(__doc__.split("\n")[0], "bias.png")
    p.add_argument("--metric", choices=["nmse", "relerr"], default="nmse",
                   help="nmse: error over the mean squared input norm (the DME literature's); "
                        "relerr: error over the squared norm of the true mean")
    args = p.parse_args()
    runs = pc.load_runs(args.input, "bias_", args.tag)
    panels = {}
    for run in runs:
        panels.setdefault(panel_key(run), []).append(run)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.3), squeeze=False)
    for ax, (key, group) in zip(axes[0], sorted(panels.items())):
        plot_panel(ax, group, args.metric)
        r = group[0].params
        ax.set_title(f"{panel_title(key)}: d={r.get('d')}, s={r.get('s')}, "
                     f"{r.get('distribution', '')}(σ={r.get('sigma', '?')})", fontsize=9)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 2), fontsize=8, frameon=False)
    fig.suptitle(args.title or "Biased versus unbiased quantization across ranks "
                 f"({int(np.asarray(runs[0].data[args.metric]).shape[-1])} trials, ±1 std)")
    pc.save(fig, pc.output_path(args, "bias.png"), args.dpi)


if __name__ == "__main__":
    main()
