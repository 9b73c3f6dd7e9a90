#!/usr/bin/env bash
# The fault-injection suite (ctest label "faults"): every fault of issue #15 injected into
# dme-experiment jobs of N ranks. Each bad case must end within 10 s with a non-zero exit and
# one clear error (printed once, by rank 0); each overflow case must give a finite mean within
# the driver's own error bound; concurrent appends must keep every group; a killed rank must end
# the job within 10 s. `timeout` turns any hang into a failure.
# Usage: run_faults.sh N DME_EXPERIMENT MAKE_FAULT_INPUTS MPIEXEC NUMPROC_FLAG [MPI FLAGS...]
set -euo pipefail
ranks=$1 experiment=$2 make_inputs=$3 mpiexec=$4 numproc=$5
shift 5
mpi_flags=("$@")
out=$(mktemp -d "${TMPDIR:-/tmp}/dme_faults.XXXXXX")
trap 'rm -rf "$out"' EXIT
"$make_inputs" "$out"
in="$out/faults.h5"
fail() { echo "FAILED (np $ranks): $*"; exit 1; }
launch() { "$mpiexec" "$numproc" "$ranks" "${mpi_flags[@]}" "$experiment" "$@"; }
now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
cases=0

# expect_error NEEDLE ARGS...: the job fails within 10 s; rank 0 prints the error once.
expect_error() {
  local needle=$1 start status=0
  shift
  start=$(now)
  timeout 20 "$mpiexec" "$numproc" "$ranks" "${mpi_flags[@]}" "$experiment" "$@" \
    >"$out/stdout" 2>"$out/stderr" || status=$?
  local took
  took=$(elapsed_since "$start")
  ((status != 0)) || fail "succeeded: $*"
  ((status != 124)) || fail "hung (killed by timeout after 20 s): $*"
  awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "took $took s (limit 10 s): $*"
  grep -qF -- "$needle" "$out/stderr" || { cat "$out/stderr"; fail "no '$needle' from: $*"; }
  local printed
  printed=$(grep -c "dme error" "$out/stderr" || true)
  ((printed == 1)) || { cat "$out/stderr"; fail "the error was printed $printed times: $*"; }
  cases=$((cases + 1))
}

# Bad input on one rank only (rank 1): every rank ends with rank 1's error.
expect_error "(rank 1): input file" collective --dist file --file "$in" --dataset nan --log2d 12 --quiet
grep -qF "non-finite value (nan) at index 5" "$out/stderr" || fail "the NaN is not named"
expect_error "(rank 1): input file" collective --dist file --file "$in" --dataset 'len_{rank}' \
  --log2d 12 --quiet
grep -qF "has vectors of length 4095 but d = 4096" "$out/stderr" || fail "the length is not named"
expect_error "(rank 1): cannot open dataset 'miss_1'" collective --dist file --file "$in" \
  --dataset 'miss_{rank}' --log2d 12 --quiet
# Faults inside a sweep point or a per-rank task.
expect_error "zipml: the exact" bias --quantizers zipml --log2d 20 --trials 1 --quiet
expect_error "which float cannot represent" bias --sigma 100 --log2d 10 --trials 1 --quiet
# (Not under AddressSanitizer, which aborts on an impossible allocation instead of throwing.)
if [[ -z "${DME_SANITIZED:-}" ]]; then
  expect_error "out of memory" single --d 1099511627776 --trials 1 --sigmas 1 --quiet
fi
# Strict options, refused before any MPI work with the option's name and the value as typed.
expect_error "--d must be a non-negative whole number, got '-1'" bias --d -1
expect_error "--d must be a non-negative whole number, got '-1'" single --d -1
expect_error "--s must be a non-negative whole number, got '-3'" single --s -3
expect_error "--bucket must be a non-negative whole number, got '-1'" collective --bucket -1 --log2d 6
# A 2-D input with fewer rows than ranks; a float64 value beyond float32.
expect_error "has 1 rows (shape 1 x 4096) but rank 1 reads row 1" collective --dist file \
  --file "$in" --dataset one_row --log2d 12 --quiet
expect_error "outside the float32 range" collective --dist file --file "$in" --dataset big64 \
  --log2d 12 --quiet
grep -qF -- "holds -1e+300 at index 3" "$out/stderr" || fail "the float64 value is not named"

# All-zero input: NMSE 0 (an exact estimate of the zero mean), not nan.
launch collective --dist file --file "$in" --dataset zero --log2d 12 --quiet --csv >"$out/zero.csv"
# (columns by name: the table grows)
nmse_col='NR == 1 { for (i = 1; i <= NF; i++) if ($i == "nmse") c = i; next }'
awk -F, "$nmse_col"' { if ($c + 0 != 0 || $c ~ /nan/) bad = 1 } END { exit bad || !c }' "$out/zero.csv" ||
  fail "all-zero input: $(cat "$out/zero.csv")"
cases=$((cases + 1))

# Inputs near the float32 limit, rotations 0 and 2, every exchange: the driver checks the mean
# against a float64 reference (NMSE within 4x the stochastic-rounding bound, else exit 1).
for rot in 0 2; do
  timeout 60 "$mpiexec" "$numproc" "$ranks" "${mpi_flags[@]}" "$experiment" collective \
    --dist file --file "$in" --dataset huge --log2d 12 --rotations "$rot" --quiet --csv \
    >"$out/huge.csv" 2>"$out/huge.err" || { cat "$out/huge.err"; fail "huge inputs, rotations $rot"; }
  awk -F, "$nmse_col"' { if ($c ~ /inf|nan/) bad = 1 } END { exit bad || !c }' "$out/huge.csv" ||
    fail "huge inputs: $(cat "$out/huge.csv")"
  cases=$((cases + 1))
done

# s = m = 65536 levels at d = 4096 (it used to run for minutes): the grid levels that border
# the data fit in s, so quiver-apx takes them without its DP; well within 10 s.
start=$(now)
timeout 20 "$mpiexec" "$numproc" "$ranks" "${mpi_flags[@]}" "$experiment" single --d 4096 \
  --s 65536 --m 65536 --quantizers quiver-apx --trials 1 --sigmas 1 --quiet --csv \
  >"$out/big_s.csv" 2>"$out/big_s.err" || { cat "$out/big_s.err"; fail "s = m = 65536"; }
took=$(elapsed_since "$start")
awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "s = m = 65536 at d = 4096 took $took s"
cases=$((cases + 1))

# A run name that exists in the file appended to is refused before the run, not after it.
launch single --log2d 8 --trials 1 --sigmas 1 --quantizers quiver --quiet --out "$out/r.h5" >/dev/null
expect_error "cannot append run 'single_quiver'" single --log2d 22 --trials 50 --quantizers \
  uniform,quiver --quiet --append --out "$out/r.h5"
! grep -q "single_uniform\|uniform " "$out/stdout" || fail "the run started before the name check"

# Two jobs appending to one file at once: both groups land, every time.
if ((ranks == 2)); then
  for i in $(seq 1 20); do
    f="$out/append_$i.h5"
    "$mpiexec" "$numproc" 1 "${mpi_flags[@]}" "$experiment" single --log2d 8 --trials 1 \
      --sigmas 1 --quantizers quiver --quiet --append --out "$f" >/dev/null 2>"$out/a.err" &
    a=$!
    "$mpiexec" "$numproc" 1 "${mpi_flags[@]}" "$experiment" single --log2d 8 --trials 1 \
      --sigmas 1 --quantizers uniform --quiet --append --out "$f" >/dev/null 2>"$out/b.err" &
    b=$!
    wait "$a" || { cat "$out/a.err"; fail "append job a, try $i"; }
    wait "$b" || { cat "$out/b.err"; fail "append job b, try $i"; }
    groups=$("$make_inputs" --groups "$f") || fail "try $i: unreadable $f"
    grep -qx "single_quiver" <<<"$groups" || fail "try $i lost single_quiver: $groups"
    grep -qx "single_uniform" <<<"$groups" || fail "try $i lost single_uniform: $groups"
    ls "$out" | grep -q "\.tmp\." && fail "try $i left a temporary: $(ls "$out")"
  done
  cases=$((cases + 1))
fi

# A rank killed mid-run (kill -9): the job ends within 10 s, non-zero.
"$mpiexec" "$numproc" "$ranks" "${mpi_flags[@]}" "$experiment" bias --log2d 20 --trials 200 \
  --quantizers quiver-apx --quiet >/dev/null 2>"$out/kill.err" &
job=$!
victim=""
for _ in $(seq 1 100); do
  victim=$(pgrep -f "dme-experiment bias --log2d 20 --trials 200" | grep -v "^$job\$" | tail -1 || true)
  [[ -n "$victim" ]] && break
  sleep 0.1
done
[[ -n "$victim" ]] || fail "no rank process to kill"
sleep 1
kill -9 "$victim"
start=$(now)
status=0
timeout 30 tail --pid="$job" -f /dev/null || true
wait "$job" || status=$?
took=$(elapsed_since "$start")
((status != 0)) || fail "the job with a killed rank exited 0"
awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "killed rank: the job took $took s to end"
echo "a rank killed with SIGKILL: the job ended $took s later with status $status"
cases=$((cases + 1))

# SIGTERM to the job (as a scheduler ends it): no temporary and no partial file left behind.
"$mpiexec" "$numproc" "$ranks" "${mpi_flags[@]}" "$experiment" bias --log2d 20 --trials 200 \
  --quantizers quiver-apx --quiet --out "$out/term.h5" >/dev/null 2>&1 &
job=$!
sleep 2
kill -TERM "$job"
timeout 30 tail --pid="$job" -f /dev/null || true
wait "$job" || true
[[ ! -e "$out/term.h5" ]] || fail "SIGTERM left a results file"
! ls "$out" | grep -q "term.h5.tmp" || fail "SIGTERM left a temporary: $(ls "$out")"
cases=$((cases + 1))

echo "faults OK at $ranks ranks: $cases cases"
