#!/usr/bin/env python3
"""Plot `scripts/scale_sweep.sh` (files of `dme-experiment collective --out`, one per rank count):
NMSE of the mean against the number of ranks n, one line per exchange and input kind (log-log,
with the slope of each line), and the bits received per coordinate by one rank against n, beside
the float32 ring allreduce's 2 (n - 1)/n · 32.

Expected picture (docs/algorithms.md §10.6): allgather and reduce-scatter-int fall as 1/n
(slope -1) for both input kinds; reduce-scatter levels off for identical inputs; correlated
rounding lies below allgather, falling as 1/n^2 for identical inputs. allgather's
bytes grow as n - 1 payloads; both reduce-scatters stay flat.
"""

import numpy as np

import plot_common as pc

STYLE = pc.EXCHANGE_STYLE


def line_name(params):
    """The exchange, and whether its rounding draws were correlated across ranks."""
    correlated = "rounding-draws=correlated" in str(params.get("options", ""))
    return params["exchange"] + (", correlated" if correlated else "")


def slope(ns, values):
    """Least-squares slope of log(values) against log(ns)."""
    if len(ns) < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns), np.log(values), 1)[0])


def main():
    p = pc.parser(__doc__.split("\n")[0], "scale.png", many=True)
    args = p.parse_args()
    runs = [r for path in args.inputs for r in pc.load_runs(path, "collective_", args.tag)]
    # (exchange, input kind, d) -> {n: run}
    lines = {}
    for r in runs:
        key = (line_name(r.params), r.params.get("input_mode", "?"), int(r.params["d"]))
        lines.setdefault(key, {})[int(r.params["ranks"])] = r
    import matplotlib.pyplot as plt

    fig, (err_ax, bits_ax) = plt.subplots(1, 2, figsize=(12, 4.6))
    all_ns = sorted({n for by_n in lines.values() for n in by_n})
    for (exchange, kind, d), by_n in sorted(lines.items()):
        ns = sorted(by_n)
        nmse = [float(np.mean(by_n[n].data["nmse"])) for n in ns]
        style = dict(STYLE.get(exchange, {}))
        style["linestyle"] = "-" if kind == "iid" else "--"
        err_ax.plot(ns, nmse, label=f"{exchange}, {kind} (slope {slope(ns, nmse):.2f})", **style)
        if kind == "iid":  # the bytes do not depend on the inputs
            bits = [float(by_n[n].data["recv_bits_per_coord"][0]) +
                    float(by_n[n].data["side_bits_per_coord"][0]) for n in ns]
            bits_ax.plot(ns, bits, label=exchange, **style)
    ring = [2 * (n - 1) / n * 32 for n in all_ns]
    bits_ax.plot(all_ns, ring, color="black", linestyle=":", label="float32 ring allreduce")
    for ax in (err_ax, bits_ax):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("ranks n")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    err_ax.set_yscale("log")
    err_ax.set_ylabel(r"NMSE  $\|\hat{\bar x}-\bar x\|^2 \,/\, \frac{1}{n}\sum_r \|x_r\|^2$")
    err_ax.set_title("error of the mean (solid: iid inputs, dashed: identical)", fontsize=9)
    bits_ax.set_yscale("log", base=2)
    bits_ax.set_ylabel("bits received per coordinate, one rank")
    bits_ax.set_title("traffic per rank (payloads, headers and side information)", fontsize=9)
    r = runs[0].params
    fig.suptitle(args.title or f"Scaling with the rank count: d = {r.get('d')}, s = {r.get('s')}, "
                 f"{r.get('distribution', '')} inputs")
    pc.save(fig, pc.output_path(args, "scale.png"), args.dpi)


if __name__ == "__main__":
    main()
