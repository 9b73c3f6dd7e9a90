#!/usr/bin/env bash
# Runs bias, single, gaussianity, schemes, train and collective at tiny sizes with --out, then every plot script on the
# files (and plot_solvers.py on `dme-bench solvers --csv` when that subcommand exists), and
# checks that each wrote a PNG. Exits 77 (ctest: skipped) when python3 cannot import h5py,
# matplotlib and numpy.
# Usage: run_plot_scripts.sh DME_EXPERIMENT DME_BENCH|none SCRIPTS_DIR PYTHON MPIEXEC NUMPROC_FLAG [MPI FLAGS...]
set -euo pipefail
experiment=$1 bench=$2 scripts=$3 python=$4 mpiexec=$5 numproc=$6
shift 6
mpi_flags=("$@")
if ! "$python" -c "import h5py, matplotlib, numpy" 2>/dev/null; then
  echo "skipped: $python cannot import h5py, matplotlib and numpy (pip install -r scripts/requirements.txt)"
  exit 77
fi
out=$(mktemp -d "${TMPDIR:-/tmp}/dme_plots.XXXXXX")
trap 'rm -rf "$out"' EXIT
run2() { "$mpiexec" "$numproc" 2 "${mpi_flags[@]}" "$@"; }

run2 "$experiment" bias --log2d 8 --trials 2 --rotations 0,2 --quiet --out "$out/bias.h5" >"$out/bias.txt"
run2 "$experiment" single --log2d 8 --trials 2 --sigmas 0.5,1 --quiet --out "$out/single.h5" >"$out/single.txt"
run2 "$experiment" gaussianity --log2d 4,6 --seeds 8 --quiet --out "$out/gaussianity.h5" >"$out/gaussianity.txt"
run2 "$experiment" schemes --log2d 8,10 --bits 1,2 --trials 2 --quiet --out "$out/schemes.h5" >"$out/schemes.txt"
run2 "$experiment" collective --log2d 8 --trials 1 --exchange allgather,reduce-scatter-int \
  --quiet --out "$out/scale_iid.h5" >"$out/scale_iid.txt"
run2 "$experiment" collective --log2d 8 --trials 1 --exchange allgather,reduce-scatter-int \
  --inputs identical --quiet --out "$out/scale_identical.h5" >"$out/scale_identical.txt"
# The time model on two fake link rates (no shaping: this only exercises the script).
DME_NETEM_RATE=1gbit DME_NETEM_TCP_GBPS=0.95 run2 "$experiment" collective --log2d 8,10 \
  --trials 1 --quiet --out "$out/link1.h5" >/dev/null
DME_NETEM_RATE=10gbit DME_NETEM_TCP_GBPS=9.5 run2 "$experiment" collective --log2d 8,10 \
  --trials 1 --quiet --out "$out/link10.h5" >/dev/null
DME_NETEM_RATE=1gbit DME_NETEM_TCP_GBPS=0.95 run2 "$experiment" collective --log2d 14 \
  --exchange allgather --pipeline 4 --trials 1 --quiet --out "$out/link1_pipe.h5" >/dev/null
run2 "$experiment" train --data "$scripts/../data/digits.h5" --model softmax --steps 20 --eval-every 5 \
  --estimators exact,asq,kmeans --bits 2 --quiet --out "$out/train.h5" >"$out/train.txt"

check_png() {  # a PNG starts with \x89PNG
  [[ -s $1 && $(head -c 4 "$1" | od -An -c | tr -d ' ') == '211PNG' ]] || { echo "not a PNG: $1"; exit 1; }
}
for name in bias single gaussianity schemes train; do
  "$python" "$scripts/plot_$name.py" --help >/dev/null
  "$python" "$scripts/plot_$name.py" "$out/$name.h5" -o "$out/$name.png"
  check_png "$out/$name.png"
done
"$python" "$scripts/plot_single.py" "$out/single.h5" --analytic -o "$out/single_analytic.png"
check_png "$out/single_analytic.png"
"$python" "$scripts/plot_schemes.py" "$out/schemes.h5" --metric vnmse -o "$out/schemes_vnmse.png"
check_png "$out/schemes_vnmse.png"
"$python" "$scripts/plot_bias.py" "$out/bias.h5" --metric relerr -o "$out/bias_relerr.png"
check_png "$out/bias_relerr.png"

"$python" "$scripts/plot_solvers.py" --help >/dev/null
if [[ $bench != none ]] && "$bench" solvers --help >/dev/null 2>&1; then
  "$bench" solvers --log2d 8,10 --s 4,8 --solvers quiver,quiver-apx,kmeans --csv >"$out/solvers.csv"
  "$python" "$scripts/plot_solvers.py" "$out/solvers.csv" -o "$out/solvers.png"
  check_png "$out/solvers.png"
else
  echo "note: dme-bench solvers not available; plot_solvers.py checked with --help only"
fi
"$python" "$scripts/plot_scale.py" --help >/dev/null
"$python" "$scripts/plot_scale.py" "$out/scale_iid.h5" "$out/scale_identical.h5" -o "$out/scale.png"
check_png "$out/scale.png"
"$python" "$scripts/time_model.py" --help >/dev/null
"$python" "$scripts/time_model.py" "$out/link1.h5" "$out/link10.h5" "$out/link1_pipe.h5" \
  -o "$out/time_model.png" >"$out/time_model.txt"
grep -q "worst ratio measured/predicted, compressed mean" "$out/time_model.txt"
grep -q "allgather pipelined" "$out/time_model.txt"
grep -q "predicted crossover link rate" "$out/time_model.txt"
check_png "$out/time_model.png"
# One vector length at one rank count: the latency is not identifiable; the model says so and
# keeps it at 0 instead of fitting milliseconds per message.
"$python" "$scripts/time_model.py" "$out/link1_pipe.h5" -o "$out/time_model_one.png" \
  >"$out/time_model_one.txt"
grep -q "alpha is set to 0" "$out/time_model_one.txt"
grep -q "alpha = 0.0 us per message" "$out/time_model_one.txt"
# netem.sh: usage, and its argument checks before anything privileged.
bash "$scripts/netem/netem.sh" --help >/dev/null
if bash "$scripts/netem/netem.sh" run 1 1gbit -- true 2>"$out/netem.err"; then
  echo "netem.sh accepted one rank"; exit 1
fi
grep -q "N must be 2..200" "$out/netem.err"
# A file from another experiment is refused with a clear message.
if "$python" "$scripts/plot_bias.py" "$out/single.h5" -o "$out/x.png" 2>"$out/err.txt"; then
  echo "plot_bias.py accepted a single-experiment file"; exit 1
fi
grep -q "no runs named bias_" "$out/err.txt"
# Jobs appended to one file with --tag (another d here): each tag is plotted on its own, and a
# file of several tags without --tag is refused with the tags named.
cp "$out/bias.h5" "$out/tagged.h5"
run2 "$experiment" bias --log2d 9 --trials 2 --rotations 2 --quiet --out "$out/tagged.h5" \
  --append --tag d512 >/dev/null
if "$python" "$scripts/plot_bias.py" "$out/tagged.h5" -o "$out/x.png" 2>"$out/err.txt"; then
  echo "plot_bias.py plotted runs of two tags together"; exit 1
fi
grep -q "different --tag values ((none), d512): plot one with --tag" "$out/err.txt"
for tag in d512 ""; do
  "$python" "$scripts/plot_bias.py" "$out/tagged.h5" --tag "$tag" -o "$out/tag_$tag.png"
  check_png "$out/tag_$tag.png"
done
# A missing input, a file that is not HDF5 and an unwritable PNG: one line each, no traceback.
echo "not hdf5" >"$out/text.h5"
for bad in "$out/missing.h5 -o $out/x.png" "$out/text.h5 -o $out/x.png" \
  "$out/bias.h5 -o $out/no-such-dir/x.png"; do
  # shellcheck disable=SC2086  # the words of one bad invocation
  if "$python" "$scripts/plot_bias.py" $bad 2>"$out/err.txt"; then
    echo "plot_bias.py accepted $bad"; exit 1
  fi
  grep -qE "no such file|cannot read it as an HDF5|cannot write the plot" "$out/err.txt"
  if grep -q "Traceback" "$out/err.txt"; then cat "$out/err.txt"; exit 1; fi
done
echo "plot scripts OK"
