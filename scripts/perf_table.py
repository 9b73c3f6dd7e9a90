#!/usr/bin/env python3
"""The README's performance table from the CSV files of scripts/perf-table.sh.

Usage: perf_table.py DIR

DIR holds machine.txt and one folder per SIMD target with <bench>.run<k>.csv files. Prints a
Markdown table, one column per target, each figure as the range over the runs (min-max).
"""
import csv
import glob
import os
import sys

TARGET_ORDER = ["avx512", "avx2", "sse4", "neon", "sve2", "sve", "scalar"]  # columns, best first


def read_runs(folder, bench):
    """The rows of every run of one benchmark: a list (per run) of lists of dicts."""
    runs = []
    for path in sorted(glob.glob(os.path.join(folder, bench + ".run*.csv"))):
        with open(path, newline="") as f:
            rows = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))]
        if rows:
            runs.append(rows)
    return runs


def pick(rows, size=None, **match):
    """The row whose columns equal match (as strings), or None; of several, the one with the
    smallest log2d when size is "min", the largest when "max", else the first."""
    found = [r for r in rows if all(r.get(k) == str(v) for k, v in match.items())]
    if not found:
        return None
    if size in ("min", "max"):
        pick_one = min if size == "min" else max
        return pick_one(found, key=lambda r: int(r["log2d"]))
    return found[0]


def values(runs, column, size=None, **match):
    """column of the matching row in every run (floats; runs without the row are skipped)."""
    out = []
    for rows in runs:
        r = pick(rows, size, **match)
        if r is not None and r.get(column) not in (None, "", "-"):
            out.append(float(r[column]))
    return out


def sizes(folder, bench):
    """The log2d values of a benchmark's first run, ascending."""
    runs = read_runs(folder, bench)
    return sorted({int(r["log2d"]) for r in runs[0]}) if runs else []


def ratios(runs, num, den):
    """num(row) / den(row) per run, where num and den pick (column, match) pairs."""
    out = []
    for rows in runs:
        a, b = pick(rows, None, **num[1]), pick(rows, None, **den[1])
        if a is not None and b is not None and float(b[den[0]]) > 0:
            out.append(float(a[num[0]]) / float(b[den[0]]))
    return out


def fmt(xs, unit="", digits=3, sci=False):
    if not xs:
        return "-"
    lo, hi = min(xs), max(xs)

    def one(x):
        return f"{x:.2e}" if sci else f"{x:.{digits}g}"

    text = one(lo) if one(lo) == one(hi) else f"{one(lo)}–{one(hi)}"
    return text + unit


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    targets = sorted((d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))),
                     key=lambda t: TARGET_ORDER.index(t) if t in TARGET_ORDER else 99)
    if not targets:
        sys.exit(f"perf_table.py: no target folders in {root}")
    machine = os.path.join(root, "machine.txt")
    if os.path.exists(machine):
        with open(machine) as f:
            print("\n".join("    " + line.rstrip() for line in f))
        print()

    rows = []  # (what, {target: text})

    def row(what, fn):
        rows.append((what, {t: fn(os.path.join(root, t)) for t in targets}))

    def pipeline(folder):
        runs = read_runs(folder, "pipeline")
        return (fmt(values(runs, "gb_per_s", "max"), " GB/s") + " (" +
                fmt(values(runs, "total_ms", "max"), " ms") + ")")

    def rounding(folder):
        runs = read_runs(folder, "rounding")
        return (fmt(values(runs, "coords_per_s", "min"), sci=True) + " / " +
                fmt(values(runs, "coords_per_s", "max"), sci=True) + " coords/s (" +
                fmt(values(runs, "speedup", "max"), "×") + " scalar)")

    def solver(name, with_ratio):
        def f(folder):
            runs = read_runs(folder, "solvers")
            text = fmt(values(runs, "ms", solver=name), " ms")
            if with_ratio:
                text += ", " + fmt(values(runs, "ms_over_sort", solver=name), "× sort", 2)
            return text
        return f

    def sorts(folder):
        runs = read_runs(folder, "solvers")
        used = {r[0]["sort_used"] for r in runs if r}
        return (fmt(values(runs, "radix_sort_ms", solver="quiver")) + " / " +
                fmt(values(runs, "vqsort_ms", solver="quiver")) + " ms, uses " +
                ",".join(sorted(used)))

    def fwht(size, over_memcpy):
        def f(folder):
            runs = read_runs(folder, "rotation")
            text = fmt(values(runs, "fwht_ms", size), " ms")
            if over_memcpy:
                text += ", " + fmt(values(runs, "fwht_over_memcpy", size), "× memcpy", 2)
            return text
        return f

    def rotation2(folder):
        return fmt(values(read_runs(folder, "rotation2"), "rht_forward_ms", "max"), " ms")

    def codec(layout):
        def f(folder):
            runs = read_runs(folder, "codec")
            text = (fmt(values(runs, "unpack_ms", layout=layout)) + " / " +
                    fmt(values(runs, "acc_ms", layout=layout), " ms"))
            if layout != "fixed4":
                u = ratios(runs, ("unpack_ms", {"layout": layout}),
                           ("unpack_ms", {"layout": "fixed4"}))
                a = ratios(runs, ("acc_ms", {"layout": layout}), ("acc_ms", {"layout": "fixed4"}))
                text += f" ({fmt(u, '×', 2)} / {fmt(a, '×', 2)} fixed4)"
            return text
        return f

    # The sizes as the files hold them (the table's, or --quick's smaller ones).
    first = os.path.join(root, targets[0])

    def d(bench, which):
        found = sizes(first, bench)
        return f"2^{found[0] if which == 'min' else found[-1]}" if found else "?"

    row(f"whole compression, d = {d('pipeline', 'max')}, s = 16, 2 RHTs + quiver-apx "
        "(target at 2^24: ≥ 0.9 GB/s AVX2, ≥ 1.1 AVX-512)", pipeline)
    row(f"stochastic rounding s = 16, d = {d('rounding', 'min')} / {d('rounding', 'max')} "
        "(≥ 5e8 AVX2, ≥ 1e9 AVX-512)", rounding)
    row(f"quiver-apx m = 400, s = 16, d = {d('solvers', 'min')} (at 2^20: ≤ 1.5 ms AVX2, "
        "≤ 1 ms AVX-512)", solver("quiver-apx", False))
    row(f"quiver (exact), d = {d('solvers', 'min')}, against std::sort (≤ 0.25×)",
        solver("quiver", True))
    row("quiver-accel, same (≤ 0.25×)", solver("quiver-accel", True))
    row("k-means (optimal biased), same (≤ 1.5×)", solver("kmeans", True))
    row(f"the exact solvers' sort, d = {d('solvers', 'min')}: radix / vqsort", sorts)
    row(f"FWHT, d = {d('rotation', 'min')}", fwht("min", False))
    row(f"FWHT, d = {d('rotation', 'max')}, against memcpy (at 2^24: ≤ 2×)", fwht("max", True))
    row(f"2 RHTs forward, d = {d('rotation2', 'max')}", rotation2)
    row(f"mixed radix s = 10, d = {d('codec', 'min')}: unpack / decode-accumulate "
        "(within 3× of fixed4)", codec("radix19"))
    row("fixed 4-bit (s = 16), same", codec("fixed4"))

    print("| what | " + " | ".join(targets) + " |")
    print("|---|" + "---|" * len(targets))
    for what, cells in rows:
        print(f"| {what} | " + " | ".join(cells[t] for t in targets) + " |")


if __name__ == "__main__":
    main()
