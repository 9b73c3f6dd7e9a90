#!/usr/bin/env bash
# Time to the mean against link bandwidth on the emulated network of netem.sh: for each link
# rate, `dme-experiment collective` (every exchange, against MPI_Allreduce in the same run) on
# RANKS ranks, one per namespace, then scripts/time_model.py fits a time model to all of it.
# Needs root. Writes OUT_DIR/netem_<rate>.h5 and .txt, OUT_DIR/time_model.png and
# OUT_DIR/time_model.txt.
#   RATES (default 0.5gbit,1gbit,2.5gbit,5gbit,10gbit,25gbit), RANKS (default 2),
#   LOG2D (default 20,24), TRIALS (default 3), EXCHANGES (default all four), BUILD_DIR
#   (default build), OUT_DIR (default results/netem); extra arguments go to the experiment
#   (e.g. --simd avx2). About 5 minutes with the defaults on 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build=${BUILD_DIR:-build}
out_dir=${OUT_DIR:-results/netem}
rates=${RATES:-0.5gbit,1gbit,2.5gbit,5gbit,10gbit,25gbit}
ranks=${RANKS:-2}
log2d=${LOG2D:-20,24}
trials=${TRIALS:-3}
exchanges=${EXCHANGES:-allgather,gather-bcast,reduce-scatter,reduce-scatter-int}
experiment="$root/$build/apps/dme-experiment"
[[ -x $experiment ]] || { echo "sweep: $experiment not found; build first (scripts/test.sh)" >&2; exit 1; }
mkdir -p "$out_dir"
files=()
for rate in ${rates//,/ }; do
  h5="$out_dir/netem_${rate}.h5"
  echo "== $ranks ranks, $rate links -> $h5"
  bash scripts/netem/netem.sh run "$ranks" "$rate" -- "$experiment" collective --log2d "$log2d" \
    --exchange "$exchanges" --trials "$trials" --quiet --force --out "$h5" "$@" |
    tee "${h5%.h5}.txt"
  files+=("$h5")
done
python3 scripts/time_model.py "${files[@]}" -o "$out_dir/time_model.png" | tee "$out_dir/time_model.txt"
