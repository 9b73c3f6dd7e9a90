#!/usr/bin/env python3
"""Plot the solver benchmark: `dme-bench solvers --csv > solvers.csv` (columns solver, dist,
log2d, s, m, ms, sort_ms, ms_over_sort, vnmse, opt_vnmse), or an HDF5 file whose runs carry
the same names (attributes solver, dist, s, m; datasets log2d, ms, ...).

Panels (log-log, as the QUIVER paper's Figures 2-4): solver time versus d at one s, with
std::sort of the same input as a reference; time versus s at the largest d; and the vNMSE of
each solver relative to the exact optimum versus d (where the optimum was computed).
"""

import csv
import math
import sys

import numpy as np

import plot_common as pc


def read_csv(path):
    with open(path, newline="") as f:
        lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    rows = list(csv.DictReader(lines))
    if not rows or "solver" not in rows[0] or "ms" not in rows[0]:
        sys.exit(f"{path}: expected the CSV of `dme-bench solvers --csv` (columns solver, log2d, "
                 "s, m, ms, ...)")
    return rows


def read_hdf5(path):
    """Flattens HDF5 runs into the CSV's rows: one row per entry of each run's log2d."""
    rows = []
    for run in pc.load_runs(path, ""):
        if "log2d" not in run.data or "ms" not in run.data:
            continue
        for i, l2 in enumerate(np.atleast_1d(run.data["log2d"])):
            row = {k: str(v) for k, v in run.params.items()}
            row["log2d"] = str(l2)
            for key, values in run.data.items():
                values = np.atleast_1d(values)
                if len(values) == len(np.atleast_1d(run.data["log2d"])):
                    row[key] = str(values[i])
            rows.append(row)
    if not rows:
        sys.exit(f"{path}: no runs with log2d and ms datasets")
    return rows


def number(row, key):
    try:
        v = float(row.get(key, "nan"))
    except ValueError:
        return math.nan
    return v


def series(rows, solver, x_key, fixed):
    pts = sorted((number(r, x_key), number(r, "ms"), number(r, "sort_ms"), number(r, "vnmse"),
                  number(r, "opt_vnmse")) for r in rows
                 if r["solver"] == solver and all(number(r, k) == v for k, v in fixed.items()))
    return np.array(pts).reshape(-1, 5)


def pick(values, wanted):
    values = sorted(set(values))
    if wanted is not None:
        if wanted not in values:
            sys.exit(f"no rows with that value; available: {values}")
        return wanted
    return values[len(values) // 2]


def main():
    p = pc.parser(__doc__.split("\n")[0], "solvers.png")
    p.add_argument("--s", type=float, default=None, help="s of the time-versus-d panel "
                   "(default: the middle value in the file)")
    args = p.parse_args()
    rows = read_hdf5(args.input) if args.input.endswith((".h5", ".hdf5")) else read_csv(args.input)
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    s = pick([number(r, "s") for r in rows], args.s)
    dmax = max(number(r, "log2d") for r in rows)
    import matplotlib.pyplot as plt

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 4.5))
    sort_drawn = False
    for solver in solvers:
        style = dict(color=pc.COLOURS.get(solver), marker="o", ms=3, label=solver)
        by_d = series(rows, solver, "log2d", {"s": s})
        if len(by_d):
            a1.plot(2.0 ** by_d[:, 0], by_d[:, 1], **style)
            if not sort_drawn and not np.all(np.isnan(by_d[:, 2])):
                a1.plot(2.0 ** by_d[:, 0], by_d[:, 2], "k--", label="std::sort")
                sort_drawn = True
            ratio = by_d[:, 3] / by_d[:, 4]
            if np.any(np.isfinite(ratio)):
                a3.plot(2.0 ** by_d[:, 0], ratio, **style)
        by_s = series(rows, solver, "s", {"log2d": dmax})
        if len(by_s):
            a2.plot(by_s[:, 0], by_s[:, 1], **style)
    dist = rows[0].get("dist", "")
    a1.set(xscale="log", yscale="log", xlabel="d", ylabel="solver time (ms)",
           title=f"time versus d (s = {s:g}, {dist})")
    a2.set(xscale="log", yscale="log", xlabel="s (levels)", ylabel="solver time (ms)",
           title=f"time versus s (d = 2^{dmax:g})")
    a3.set(xscale="log", xlabel="d", ylabel="vNMSE / optimal vNMSE",
           title=f"error relative to the exact optimum (s = {s:g})")
    for ax in (a1, a2, a3):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    a1.set_xscale("log", base=2)
    a3.set_xscale("log", base=2)
    a2.set_xscale("log", base=2)
    s_values = sorted({number(r, "s") for r in rows})
    a2.set_xticks(s_values)
    a2.set_xticklabels([f"{v:g}" for v in s_values])
    if args.title:
        fig.suptitle(args.title)
    pc.save(fig, pc.output_path(args, "solvers.png"), args.dpi)


if __name__ == "__main__":
    main()
