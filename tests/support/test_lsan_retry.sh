#!/usr/bin/env bash
# Checks tests/support/lsan_retry.sh: a run whose only fault is LeakSanitizer's tracer crash is
# run once more and takes the second run's status; any other failure is reported as it is.
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dme-lsan-retry-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

# A fake test: prints its report (argument 1 on the first run, argument 2 on later runs) and
# exits with the code that follows it; counts its runs in $work/count.
cat > "$work/fake.sh" <<'FAKE'
n=$(cat "$COUNT" 2>/dev/null || echo 0); echo $((n + 1)) > "$COUNT"
if ((n == 0)); then printf '%b\n' "$1"; exit "$2"; fi
printf '%b\n' "$3"; exit "$4"
FAKE
crash='[  PASSED  ] 2 tests.\nTracer caught signal 11: addr=0x4280\n'
crash+='==1==LeakSanitizer has encountered a fatal error.'

check() {  # check <name> <expected rc> <expected runs> <first report> <rc> <second> <rc>
  local name=$1 want_rc=$2 want_runs=$3
  shift 3
  rm -f "$work/count"
  COUNT=$work/count bash "$here/lsan_retry.sh" bash "$work/fake.sh" "$@" > "$work/out" 2>&1
  local rc=$? runs
  runs=$(cat "$work/count")
  if [[ $rc != "$want_rc" || $runs != "$want_runs" ]]; then
    echo "FAIL $name: exit $rc after $runs runs, expected exit $want_rc after $want_runs"
    cat "$work/out"
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

check "a pass runs once" 0 1 '[  PASSED  ] 1 test.' 0 '' 0
check "a tracer crash is retried and the retry's pass counts" 0 2 "$crash" 1 'ok' 0
check "a tracer crash then a failure fails" 3 2 "$crash" 1 '[  FAILED  ] A.B' 3
check "a failed assertion is never retried" 1 1 "[  FAILED  ] A.B\n$crash" 1 '' 0
check "a detected leak is never retried" 23 1 \
  "ERROR: LeakSanitizer: detected memory leaks\n$crash" 23 '' 0
check "an ASan report is never retried" 1 1 "ERROR: AddressSanitizer: heap-use-after-free" 1 '' 0
check "a UBSan error is never retried" 1 1 "x.cpp:3:5: runtime error: shift\n$crash" 1 '' 0
check "a plain failure is never retried" 2 1 'failed' 2 '' 0
check "two tracer crashes fail" 1 2 "$crash" 1 "$crash" 1
exit $((failures > 0))
