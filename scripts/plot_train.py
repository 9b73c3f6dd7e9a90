#!/usr/bin/env python3
"""Plot `dme-experiment train --out FILE.h5`: test accuracy against the step and against the
bytes each rank sent (log scale), and the training loss against the step, one line per estimator
and bit budget (exact MPI_Allreduce in black).

Expected picture (docs: README "train"): the unbiased estimators' accuracy curves lie on the
exact one while their bytes are 8x (4 bits) to 31x (1 bit) fewer; the biased k-means falls
behind at 1 bit.
"""

import numpy as np

import plot_common as pc

ESTIMATOR_COLOURS = {
    "exact": "black", "asq": "tab:blue", "asq-shared": "tab:purple", "eden": "tab:red",
    "qsgd": "tab:green", "kmeans": "tab:orange",
}
BITS_STYLE = {1: ":", 2: "--", 4: "-", 8: "-."}


def style(run):
    est, bits = run.params.get("estimator", run.name), int(run.params.get("bits", 32))
    label = "exact (float32 allreduce)" if est == "exact" else f"{est}, {bits} bits"
    return dict(color=ESTIMATOR_COLOURS.get(est), linestyle=BITS_STYLE.get(bits, "-"),
                label=label, linewidth=2.2 if est == "exact" else 1.4)


def main():
    p = pc.parser(__doc__.split("\n")[0], "train.png")
    args = p.parse_args()
    runs = pc.load_runs(args.input, "train_", args.tag)
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    for run in runs:
        s = style(run)
        eval_step, acc = run.data["eval_step"], run.data["test_accuracy"]
        steps, loss, sent = run.data["step"], run.data["loss"], run.data["bytes"]
        axes[0].plot(eval_step, acc, **s)
        # Bytes at each evaluation after the first step: the cumulative count of that step.
        after = eval_step >= 1
        axes[1].plot(sent[eval_step[after].astype(int) - 1], acc[after], **s)
        axes[2].plot(steps, loss, **s)
    axes[0].set_xlabel("step")
    axes[1].set_xlabel("bytes sent per rank (cumulative)")
    axes[1].set_xscale("log")
    axes[2].set_xlabel("step")
    axes[2].set_yscale("log")
    for ax, label in zip(axes, ["test accuracy", "test accuracy", "training loss (batch mean)"]):
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    lo = min(float(np.min(r.data["test_accuracy"][1:])) for r in runs if len(r.data["test_accuracy"]) > 1)
    for ax in axes[:2]:
        ax.set_ylim(max(0.0, lo - 0.05), 1.0)
    axes[2].legend(fontsize=7, ncol=2)
    r = runs[0].params
    fig.suptitle(args.title or f"Data-parallel SGD on the digits, {r.get('model')} (d = {r.get('d')}), "
                 f"{r.get('ranks')} ranks, batch {r.get('batch_per_rank')} per rank, lr {r.get('lr')}")
    pc.save(fig, pc.output_path(args, "train.png"), args.dpi)


if __name__ == "__main__":
    main()
