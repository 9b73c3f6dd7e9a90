#!/usr/bin/env bash
# The README's performance table on this machine: every benchmark of the table run on every SIMD
# target the CPU has (dme-bench --simd), RUNS times each, as CSV under OUT/<target>/, then one
# Markdown table with a column per target (ranges over the runs), the CPU named above it.
#
#   scripts/perf-table.sh [--build DIR | --bench PATH] [--out DIR] [--runs N]
#                         [--targets avx2,sse4,...] [--quick]
#
# --quick: sizes 2^14 and 2^16 and one repetition, to check the script (its figures mean little).
# Needs a built tree (scripts/test.sh or scripts/demo.sh builds build/). Single process, one
# core: run it on an otherwise idle machine; the figures move with the machine's load.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$root/build"
bench=""
out="$root/results/perf-table"
runs=1
targets=""
quick=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --bench) bench="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "perf-table.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

[[ -n "$bench" ]] || bench="$build/apps/dme-bench"
if [[ ! -x "$bench" ]]; then
  echo "perf-table.sh: $bench not found; build first (scripts/test.sh, or cmake --build $build)" >&2
  exit 1
fi
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "perf-table.sh: --runs must be a positive integer, got '$runs'" >&2
  exit 2
fi

# The targets this CPU has, as dme-bench reports them ("# simd: avx2 (available: avx2 sse4 ...").
available="$("$bench" codec --log2d 10 --s 16 --reps 1 2>&1 |
  sed -n 's/.*available: \([^;)]*\).*/\1/p' | head -1)"
if [[ -z "$available" ]]; then
  echo "perf-table.sh: could not read the available SIMD targets from dme-bench" >&2
  exit 1
fi
if [[ -z "$targets" ]]; then
  targets="${available// /,}"
else
  for t in ${targets//,/ }; do
    if [[ " $available " != *" $t "* ]]; then
      echo "perf-table.sh: target '$t' is not available on this CPU (it has: $available)" >&2
      exit 2
    fi
  done
fi

big=24 small=20 extra=""
if [[ $quick == 1 ]]; then big=16 small=14 extra="--reps 1"; fi

mkdir -p "$out"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  lscpu | grep -E '^(Model name|CPU family|Model|CPU\(s\)|L2 cache|L3 cache):' || true
  lscpu | grep -E '^(Thread\(s\) per core|Core\(s\) per socket):' || true
  echo "avx512f: $(grep -q -m1 -o avx512f /proc/cpuinfo && echo yes || echo no)"
  echo "targets: $targets"
  echo "runs: $runs"
  if [[ $quick == 1 ]]; then
    echo "quick: sizes 2^$small and 2^$big, one repetition (checks the script only)"
  fi
} > "$out/machine.txt"
cat "$out/machine.txt"

# name|arguments: the table's rows (README "Performance").
benches=(
  "pipeline|pipeline --log2d $big --s 16 --solver quiver-apx --rotations 2 $extra"
  "rounding|rounding --log2d $small,$big --s 16 $extra"
  "solvers|solvers --log2d $small --s 16 --m 400 $extra
    --solvers quiver-apx,quiver,quiver-accel,kmeans"
  "rotation|rotation --log2d $small,$big $extra"
  "rotation2|rotation --log2d $big --rotations 2 $extra"
  "codec|codec --log2d $small --s 10,16 $extra"
)

for t in ${targets//,/ }; do
  mkdir -p "$out/$t"
  for r in $(seq 1 "$runs"); do
    for entry in "${benches[@]}"; do
      name="${entry%%|*}"
      args="${entry#*|}"
      echo "[$t, run $r/$runs] dme-bench $args"
      # shellcheck disable=SC2086  # the arguments are words
      "$bench" $args --simd "$t" --csv > "$out/$t/$name.run$r.csv"
    done
  done
done

python3 "$here/perf_table.py" "$out" | tee "$out/table.md"
echo "perf-table.sh: CSV files and table.md in $out"
