#!/usr/bin/env bash
# Small runs of every dme-bench subcommand under every SIMD target the machine has, and of
# `dme-experiment collective` at 2 and 4 ranks. Each benchmark checks its own output (round
# trips, accumulations against a reference, the exact solvers against each other, the mean
# against MPI_Allreduce) and exits non-zero when a check fails; timings are not judged here.
# Usage: run_bench_checks.sh DME_BENCH DME_EXPERIMENT MPIEXEC NUMPROC_FLAG [MPI FLAGS...]
set -euo pipefail
bench=$1 experiment=$2 mpiexec=$3 numproc=$4
shift 4
mpi_flags=("$@")
fail() { echo "FAILED: $*"; exit 1; }

targets=$("$bench" rotation --log2d 4 --reps 1 | sed -n 's/^# simd: [a-z0-9]* (available: \([^;]*\);.*/\1/p')
[[ -n "$targets" ]] || fail "no '# simd:' line above the rotation table"
for t in $targets; do
  echo "== SIMD target $t"
  "$bench" rotation --log2d 10,13 --reps 2 --simd "$t" >/dev/null || fail "rotation --simd $t"
  "$bench" rotation --log2d 12 --rotations 3 --reps 1 --simd "$t" >/dev/null ||
    fail "rotation --rotations 3 --simd $t"
  "$bench" solvers --log2d 10,13 --s 4,16 --reps 1 --simd "$t" >/dev/null || fail "solvers --simd $t"
  "$bench" rounding --log2d 12 --s 4,16 --simd "$t" >/dev/null || fail "rounding --simd $t"
  "$bench" codec --log2d 12 --s 2,10,16,256,1000 --simd "$t" >/dev/null || fail "codec --simd $t"
  "$bench" pipeline --log2d 12,13 --s 16 --rotations 2 --simd "$t" >/dev/null ||
    fail "pipeline --simd $t"
done
# A DME_SIMD the machine lacks: the error names it as written, and no table line is half printed.
if out=$(DME_SIMD=avx1024 "$bench" rotation --log2d 4 --reps 1 2>&1); then
  fail "DME_SIMD=avx1024 accepted"
fi
grep -q "DME_SIMD=avx1024: unknown SIMD target" <<<"$out" || fail "DME_SIMD error: $out"
if grep -q "^# simd:" <<<"$out"; then fail "half a '# simd:' line before the error: $out"; fi
# Rotation blocks through the rotation's and the pipeline's round-trip checks.
"$bench" rotation --log2d 12 --rotations 2 --block 1024 --reps 1 >/dev/null ||
  fail "rotation --block 1024"
"$bench" pipeline --log2d 12 --rotation-block 1024 --reps 1 >/dev/null ||
  fail "pipeline --rotation-block 1024"
# Every scheme through the pipeline's round-trip check (its payload kind decoded).
for scheme in asq-shared eden qsgd quic-fl; do
  "$bench" pipeline --log2d 12 --s 4 --scheme "$scheme" --reps 1 >/dev/null ||
    fail "pipeline --scheme $scheme"
done
# The pipeline names its scheme; schemes with fixed levels have no solver.
"$bench" pipeline --log2d 10 --scheme eden --s 4 --reps 1 --csv >"${TMPDIR:-/tmp}/dme_pipe.$$" ||
  fail "pipeline --scheme eden --csv"
awk -F, 'NR == 1 {for (i = 1; i <= NF; ++i) col[$i] = i; next}
         {ok = $col["scheme"] == "eden" && $col["solver"] == "-"} END {exit !ok}' \
  "${TMPDIR:-/tmp}/dme_pipe.$$" || fail "pipeline eden row: $(cat "${TMPDIR:-/tmp}/dme_pipe.$$")"
rm -f "${TMPDIR:-/tmp}/dme_pipe.$$"
# A solver cell that cannot run (m < s) has no figures and fails the run; the others still run.
if out=$("$bench" solvers --log2d 8 --s 16 --m 2 --solvers quiver-apx,quiver --reps 1 2>&1); then
  fail "solvers with m < s exited 0: $out"
fi
grep -q "quiver-apx at log2d 8, s 16: .*m >= s" <<<"$out" || fail "solvers m < s message: $out"
grep -qE "^ +quiver-apx +lognormal +8 +16 +2 +- " <<<"$out" || fail "solvers m < s row: $out"
grep -qE "^ +quiver +lognormal +8 +16 +- +[0-9]" <<<"$out" || fail "solvers: quiver row: $out"
for n in 2 4; do
  echo "== dme-experiment collective on $n ranks"
  "$mpiexec" "$numproc" "$n" "${mpi_flags[@]}" "$experiment" collective --log2d 10,13 --trials 1 \
    --quiet >/dev/null || fail "collective on $n ranks"
done
"$mpiexec" "$numproc" 2 "${mpi_flags[@]}" "$experiment" collective --log2d 13 --trials 1 \
  --exchange allgather --rotation-block 1024 --pipeline 4 --quiet >/dev/null ||
  fail "collective with rotation blocks, pipelined"
# The streamed rotation (buckets and blocks), on both exchanges that pipeline; with a link rate
# named as scripts/netem names it, the wire_x column is a number.
out=$(DME_NETEM_RATE=1gbit "$mpiexec" "$numproc" 2 "${mpi_flags[@]}" "$experiment" \
  collective --log2d 13 --trials 1 --exchange allgather,gather-bcast --compressed-downlink \
  --rotation-block 1024 --bucket 2048 --pipeline 4 --quiet) ||
  fail "collective with the streamed rotation"
grep -q "wire_x: .*(1gbit)" <<<"$out" || fail "collective: no wire_x legend for a named link"
awk '$3 == "allgather" && $NF ~ /^[0-9.]+$/ {ok = 1} END {exit !ok}' <<<"$out" ||
  fail "collective: wire_x is not a number on a named link"
# scripts/perf-table.sh: the README's table from quick runs on one target (every cell filled),
# and its argument checks.
scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../scripts" && pwd)"
if command -v python3 >/dev/null; then
  table_dir=$(mktemp -d "${TMPDIR:-/tmp}/dme_perf_table.XXXXXX")
  trap 'rm -rf "$table_dir"' EXIT
  first=${targets%% *}
  bash "$scripts/perf-table.sh" --bench "$bench" --quick --targets "$first" --out "$table_dir" \
    >"$table_dir/log.txt" || fail "perf-table.sh --quick --targets $first"
  [[ $(grep -c '^| ' "$table_dir/table.md") == 13 ]] ||
    fail "perf-table.sh: not 12 rows and a header"
  grep -q "^| what | $first |$" "$table_dir/table.md" || fail "perf-table.sh: no column for $first"
  ! grep -q -e '| - ' -e ' - |' "$table_dir/table.md" || fail "perf-table.sh: an empty cell"
  for bad in "--targets no-such-target" "--runs 0" "--no-such-option"; do
    # shellcheck disable=SC2086  # the words of one bad invocation
    if bash "$scripts/perf-table.sh" --bench "$bench" --out "$table_dir/bad" $bad \
      2>"$table_dir/err.txt"; then
      fail "perf-table.sh accepted $bad"
    fi
    grep -q "perf-table.sh: " "$table_dir/err.txt" || fail "perf-table.sh: no message for $bad"
  done
  if python3 "$scripts/perf_table.py" 2>/dev/null; then
    fail "perf_table.py ran without a folder"
  fi
fi
echo "bench checks OK"
