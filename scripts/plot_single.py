#!/usr/bin/env python3
"""Plot `dme-experiment single --out FILE.h5`: vNMSE of one quantized LogNormal(0, σ²) vector
versus σ, one line per quantizer (biased dashed), error bars = standard deviation over trials,
log y axis as in the QUIVER paper's Figure 1a.

Expected picture: the adaptive quantizers (QUIVER, k-means) beat the uniform ones, and the
optimal biased (k-means) beats the optimal unbiased (QUIVER) for one vector.
"""

import plot_common as pc


def main():
    p = pc.parser(__doc__.split("\n")[0], "single.png")
    p.add_argument("--analytic", action="store_true",
                   help="also draw the analytic vNMSE of stochastic rounding (thin lines)")
    args = p.parse_args()
    runs = pc.load_runs(args.input, "single_", args.tag)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.3))
    for run in runs:
        q, biased = run.params.get("quantizer", run.name), bool(run.params.get("biased", 0))
        mean, std = pc.mean_std(run.data["vnmse"])
        ax.errorbar(run.data["sigma"], mean, yerr=std, capsize=3, **pc.style(q, biased))
        if args.analytic and not biased and "analytic_vnmse" in run.data:
            amean, _ = pc.mean_std(run.data["analytic_vnmse"])
            ax.plot(run.data["sigma"], amean, "-", lw=0.8, color=pc.COLOURS.get(q),
                    label=f"{q} analytic")
    r = runs[0].params
    ax.set_yscale("log")
    ax.set_xlabel("σ of the LogNormal(0, σ²) entries")
    ax.set_ylabel(r"vNMSE  $\|\hat x-x\|^2 / \|x\|^2$")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    rot = int(r.get("rotations", 0))
    ax.set_title(args.title or f"One vector: d={r.get('d')}, s={r.get('s')}"
                 + (f", {rot} RHTs" if rot else ", no rotation")
                 + f" ({run.data['vnmse'].shape[-1]} trials, ±1 std)", fontsize=10)
    pc.save(fig, pc.output_path(args, "single.png"), args.dpi)


if __name__ == "__main__":
    main()
