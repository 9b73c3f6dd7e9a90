"""Helpers shared by the plot scripts: reading dme results files (HDF5) and saving figures.

A dme results file has one group per run at the root; a run's parameters are the group's
attributes and each metric is a float64 dataset with a "units" attribute (see README).
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display on compute nodes; must precede pyplot
import matplotlib.pyplot as plt  # noqa: E402  (after the backend choice)
import numpy as np  # noqa: E402


def decode(value):
    """HDF5 attributes come back as bytes, numpy scalars or arrays; make them plain Python."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        return [decode(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Run:
    """One group of a results file: name, parameters (attributes) and metrics (arrays)."""

    def __init__(self, name, params, data, units):
        self.name = name
        self.params = params
        self.data = data
        self.units = units

    def __repr__(self):
        return f"Run({self.name!r}, {sorted(self.data)})"


def load_runs(path, prefix, tag=None):
    """Runs of `path` whose group name starts with `prefix` (e.g. "bias_"), in file order; with
    `tag`, only the runs written with that --tag. A file whose runs carry several tags (jobs
    appended with different --tag values) needs `tag`: their lines would share labels."""
    import h5py  # imported here so that --help works without h5py

    runs = []
    if not os.path.isfile(path):  # one line, not a traceback
        sys.exit(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:  # unreadable, or not HDF5
        sys.exit(f"{path}: cannot read it as an HDF5 results file ({e.strerror or e})")
    with f:
        for name, group in f.items():
            if not isinstance(group, h5py.Group) or not name.startswith(prefix):
                continue
            params = {k: decode(v) for k, v in group.attrs.items()}
            data, units = {}, {}
            for key, ds in group.items():
                if isinstance(ds, h5py.Dataset):
                    data[key] = np.asarray(ds[()], dtype=float)
                    units[key] = decode(ds.attrs.get("units", ""))
            runs.append(Run(name, params, data, units))
    if not runs:
        named = f" named {prefix}*" if prefix else ""
        sys.exit(f"{path}: no runs{named} (is this the output of the right experiment?)")
    tags = sorted({str(r.params.get("tag", "")) for r in runs})
    if tag is not None:
        runs = [r for r in runs if str(r.params.get("tag", "")) == tag]
        if not runs:
            sys.exit(f"{path}: no {prefix}* runs with tag '{tag}' (tags: "
                     + ", ".join(t or "(none)" for t in tags) + ")")
    elif len(tags) > 1:
        sys.exit(f"{path}: its {prefix}* runs come from jobs with different --tag values ("
                 + ", ".join(t or "(none)" for t in tags) + "): plot one with --tag")
    return runs


def parser(description, default_output, many=False):
    """An argument parser with the options every plot script has: input file (several with
    many=True: args.inputs, and args.input is the first) and --output."""
    p = argparse.ArgumentParser(description=description)
    if many:
        p.add_argument("inputs", nargs="+", help="results files written with --out (HDF5)")
    else:
        p.add_argument("input", help="results file written with --out (HDF5)")
    p.add_argument("-o", "--output", default=None,
                   help=f"PNG to write (default: {default_output} next to the input)")
    p.add_argument("--dpi", type=int, default=130, help="resolution of the PNG")
    p.add_argument("--title", default=None, help="figure title (default: derived from the data)")
    p.add_argument("--tag", default=None,
                   help="plot only the runs written with dme-experiment --tag TAG ('' for "
                        "the untagged ones)")
    return p


def output_path(args, default_name):
    if args.output:
        return args.output
    first = args.inputs[0] if hasattr(args, "inputs") else args.input
    return os.path.join(os.path.dirname(os.path.abspath(first)), default_name)


def save(fig, path, dpi):
    # Leave room at the bottom for a figure-level legend (plot_bias puts one there).
    fig.tight_layout(rect=(0, 0.12, 1, 1) if fig.legends else (0, 0, 1, 1))
    # bbox_inches="tight" keeps a long title or legend inside the image.
    try:
        fig.savefig(path, dpi=dpi, bbox_inches="tight")
    except OSError as e:
        sys.exit(f"{path}: cannot write the plot ({e.strerror or e})")
    plt.close(fig)
    print(path)


def mean_std(trials):
    """Mean and standard deviation over the last axis (the trials), ddof=1 when possible."""
    trials = np.atleast_2d(trials)
    ddof = 1 if trials.shape[-1] > 1 else 0
    return trials.mean(axis=-1), trials.std(axis=-1, ddof=ddof)


# One colour per quantizer across all plots; biased quantizers are dashed.
COLOURS = {
    "quiver": "tab:blue", "quiver-accel": "tab:cyan", "quiver-apx": "tab:purple",
    "kmeans": "tab:red", "uniform": "tab:green", "rtn": "tab:orange", "zipml": "tab:brown",
    "zipml-cp-unif": "tab:olive", "zipml-cp-quant": "tab:gray", "zipml-2apx": "tab:pink",
    "alq": "gold", "amq": "black",
}
LABELS = {
    "quiver": "QUIVER (optimal unbiased)", "kmeans": "k-means (optimal biased)",
    "uniform": "uniform (unbiased)", "rtn": "RTN (biased)",
}


def style(quantizer, biased):
    return dict(color=COLOURS.get(quantizer), linestyle="--" if biased else "-",
                marker="s" if biased else "o", label=LABELS.get(quantizer, quantizer))


# One colour and marker per exchange, shared by the plots of collective runs.
EXCHANGE_STYLE = {
    "allgather": dict(color="tab:blue", marker="o"),
    "gather-bcast": dict(color="tab:gray", marker="^"),
    "reduce-scatter": dict(color="tab:orange", marker="s"),
    "reduce-scatter-int": dict(color="tab:green", marker="D"),
    "reduce-scatter-int, correlated": dict(color="tab:purple", marker="v"),
    "ring allreduce": dict(color="black", marker="x"),
}
