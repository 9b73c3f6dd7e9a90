#!/usr/bin/env bash
# Error and traffic against the rank count (issue: the error must keep falling as 1/n at
# reduce-scatter traffic): `dme-experiment collective` at n = 2, 4, ..., 64 ranks (oversubscribed
# on a small machine), iid and identical inputs, every reduce exchange (reduce-scatter-int also
# with --correlated-rounding), then scripts/plot_scale.py.
# Writes OUT_DIR/scale_n<N>_<inputs>.h5 (+ .txt) and OUT_DIR/scale.png.
#   BUILD_DIR (default build), OUT_DIR (default results/scale), RANKS (default 2,4,8,16,32,64),
#   LOG2D (default 16), TRIALS (default 3), EXCHANGES (default allgather,reduce-scatter,
#   reduce-scatter-int); extra arguments go to `dme-experiment collective` (e.g. --s 4).
# It builds nothing: run scripts/demo.sh or scripts/test.sh once first. About 6 minutes on 2
# cores with the defaults (64 ranks on 2 cores dominate).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build=${BUILD_DIR:-build}
out_dir=${OUT_DIR:-results/scale}
ranks=${RANKS:-2,4,8,16,32,64}
log2d=${LOG2D:-16}
trials=${TRIALS:-3}
exchanges=${EXCHANGES:-allgather,reduce-scatter,reduce-scatter-int}
experiment="$build/apps/dme-experiment"
[[ -x $experiment ]] || { echo "scale_sweep: $experiment not found; build first (scripts/test.sh)" >&2; exit 1; }

[[ $EUID -ne 0 ]] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
open_mpi=0
if mpiexec --version 2>&1 | grep -q "Open MPI\|OpenRTE"; then open_mpi=1; fi
mkdir -p "$out_dir"
files=()
for n in ${ranks//,/ }; do
  launch=(mpiexec -n "$n")
  # Many ranks on few cores: allow it, and let waiting ranks yield their core.
  if ((open_mpi)); then launch+=(--oversubscribe --mca mpi_yield_when_idle 1); fi
  for inputs in iid identical; do
    h5="$out_dir/scale_n${n}_${inputs}.h5"
    echo "== $n ranks, $inputs inputs -> $h5"
    "${launch[@]}" "$experiment" collective --log2d "$log2d" --exchange "$exchanges" \
      --inputs "$inputs" --trials "$trials" --quiet --force --out "$h5" "$@" | tee "${h5%.h5}.txt"
    files+=("$h5")
    if [[ ,$exchanges, == *,reduce-scatter-int,* ]]; then  # and with correlated rounding
      h5="$out_dir/scale_n${n}_${inputs}_correlated.h5"
      "${launch[@]}" "$experiment" collective --log2d "$log2d" --exchange reduce-scatter-int \
        --correlated-rounding --inputs "$inputs" --trials "$trials" --quiet --force --out "$h5" \
        "$@" | tee "${h5%.h5}.txt"
      files+=("$h5")
    fi
  done
done
python3 scripts/plot_scale.py "${files[@]}" -o "$out_dir/scale.png"
