#!/usr/bin/env bash
# The dme-experiment front ends of bias, single and gaussianity: --help, --csv, and errors that
# must stop a job before it starts (exit status 1 and a message naming the value).
# Usage: run_cli_checks.sh DME_EXPERIMENT MPIEXEC NUMPROC_FLAG [MPI FLAGS...]
set -euo pipefail
experiment=$1 mpiexec=$2 numproc=$3
shift 3
mpi_flags=("$@")
out=$(mktemp -d "${TMPDIR:-/tmp}/dme_cli.XXXXXX")
trap 'rm -rf "$out"' EXIT
run2() { "$mpiexec" "$numproc" 2 "${mpi_flags[@]}" "$@"; }
fail() { echo "FAILED: $*"; exit 1; }

for sub in bias single gaussianity; do
  "$experiment" "$sub" --help >"$out/help.txt"
  grep -q -- "--out" "$out/help.txt" || fail "$sub --help lacks --out"
  grep -q -- "--csv" "$out/help.txt" || fail "$sub --help lacks --csv"
done
"$experiment" --help >"$out/help.txt"
grep -q "gaussianity" "$out/help.txt" || fail "gaussianity is not registered"

# Under mpirun, rank 0 alone prints help and usage.
[[ $(run2 "$experiment" single --help | grep -c "^Usage") -eq 1 ]] || fail "help printed per rank"
[[ $(run2 "$experiment" --help | grep -c "^Usage") -eq 1 ]] || fail "usage printed per rank"

# Expects a failing run whose stderr contains $1.
expect_error() {
  local needle=$1
  shift
  if "$@" >"$out/stdout" 2>"$out/stderr"; then fail "succeeded: $*"; fi
  grep -qF -- "$needle" "$out/stderr" || { cat "$out/stderr"; fail "no '$needle' from: $*"; }
}
expect_error "--ranks value 4 is outside 1..2" run2 "$experiment" bias --ranks 1,4 --log2d 6
expect_error "give --d or --log2d, not both" "$experiment" bias --d 100 --log2d 6
expect_error "unknown solver" "$experiment" bias --quantizers quiver,nosuch --log2d 6
expect_error "--sigmas: 'abc' is not a number" "$experiment" single --sigmas 0.5,abc
expect_error "--rotations values must be in 1..3, got 4" "$experiment" gaussianity --rotations 4
# Negative values of unsigned options are refused with the option's name (Boost would wrap them).
expect_error "--d must be a non-negative whole number, got '-1'" "$experiment" single --d -1
expect_error "--bucket must be a non-negative whole number, got '-1'" "$experiment" collective \
  --bucket -1 --log2d 6
# A scheme an exchange named in --exchange refuses stops the job before its first row.
expect_error "reduce-scatter-int sums level indices" run2 "$experiment" collective \
  --scheme quic-fl --s 4 --log2d 6 --exchange allgather,reduce-scatter-int
if grep -q "allgather" "$out/stdout"; then fail "collective printed rows before refusing"; fi
# The default exchanges: the ones that refuse the options are left out, saying why.
run2 "$experiment" collective --scheme quic-fl --s 4 --log2d 6 --trials 1 --quiet \
  >"$out/stdout" 2>"$out/stderr" || { cat "$out/stderr"; fail "collective --scheme quic-fl"; }
grep -q "^# reduce-scatter-int is left out of the default exchanges" "$out/stdout" ||
  fail "no line on the left-out exchange: $(cat "$out/stdout")"
[[ $(grep -cE "^ +2 +6 +(allgather|gather-bcast|reduce-scatter) " "$out/stdout") -eq 3 ]] ||
  fail "collective --scheme quic-fl rows: $(cat "$out/stdout")"
# schemes and train: the rows of their default lists that the options refuse are left out,
# saying why (pipelining takes asq only); named, they stop the job.
run2 "$experiment" schemes --log2d 6 --bits 1,2 --trials 1 --pipeline 2 --quiet \
  >"$out/stdout" 2>"$out/stderr" || { cat "$out/stderr"; fail "schemes --pipeline 2"; }
grep -q "eden at 1, 2 bits is left out of the default schemes" "$out/stderr" ||
  fail "no line on eden: $(cat "$out/stderr")"
[[ $(grep -cE "^ +2 +6 +asq +[12] " "$out/stdout") -eq 2 &&
  $(grep -vc "^#" "$out/stdout") -eq 2 ]] || fail "schemes --pipeline 2 rows: $(cat "$out/stdout")"
expect_error "pipelining (2 chunks)" run2 "$experiment" schemes --log2d 6 --bits 1 --trials 1 \
  --pipeline 2 --schemes asq,eden
run2 "$experiment" train --data "$(dirname "$0")/../../data/digits.h5" --model softmax --steps 2 \
  --exchange reduce-scatter-int --quiet >"$out/stdout" 2>"$out/stderr" ||
  { cat "$out/stderr"; fail "train --exchange reduce-scatter-int"; }
grep -q "^# eden at 4 bits is left out of the default estimators" "$out/stdout" ||
  fail "no line on eden: $(cat "$out/stdout")"
[[ $(grep -cE "softmax +650 +(exact|asq|kmeans) " "$out/stdout") -eq 3 ]] ||
  fail "train --exchange reduce-scatter-int rows: $(cat "$out/stdout")"
# Every scheme's self-check holds from d = 1 (exact but for float32 rounding) up: no false FAILED.
for scheme in asq asq-shared eden qsgd quic-fl; do
  run2 "$experiment" collective --scheme "$scheme" --s 4 --log2d 0,1,3,10 --trials 2 --quiet \
    --exchange allgather,gather-bcast,reduce-scatter >"$out/stdout" 2>"$out/stderr" ||
    { cat "$out/stderr"; fail "collective --scheme $scheme"; }
done
# --tag names a job's runs apart, so that --append can add another setting to one file.
run2 "$experiment" bias --log2d 6 --trials 1 --quantizers rtn --quiet --out "$out/t.h5" >/dev/null
expect_error "name this job's runs apart: dme-experiment --tag" run2 "$experiment" bias \
  --log2d 7 --trials 1 --quantizers rtn --quiet --out "$out/t.h5" --append
run2 "$experiment" bias --log2d 7 --trials 1 --quantizers rtn --quiet --out "$out/t.h5" \
  --append --tag d128 >/dev/null || fail "bias --append --tag d128"
expect_error "--tag 'a/b': use 1 to 64 letters" run2 "$experiment" bias --log2d 7 --tag a/b
touch "$out/exists.h5"
expect_error "exists.h5" run2 "$experiment" bias --log2d 6 --out "$out/exists.h5"
# An empty value (a script's unset variable) is an error, not "no output": the job would write
# nothing.
for option in out tag file; do
  expect_error "--$option needs a value, got an empty one" run2 "$experiment" collective \
    --log2d 6 --trials 1 --quiet --dist file --$option ""
done
# Input parameters are checked before the table's header.
for sub in collective schemes; do
  expect_error "lognormal: sigma must be finite and >= 0, got -1" run2 "$experiment" "$sub" \
    --log2d 6 --trials 1 --sigma -1
  [[ ! -s "$out/stdout" ]] || fail "$sub printed before refusing --sigma -1: $(cat "$out/stdout")"
done

# CSV: exactly the header, then one row per (quantizer, n).
run2 "$experiment" bias --log2d 6 --trials 2 --quantizers quiver,rtn --quiet --csv >"$out/bias.csv"
[[ $(head -1 "$out/bias.csv") == "quantizer,biased,exchange,ranks,nmse_mean,nmse_std,relerr_mean,relerr_std,rotations,bits_per_coord,recv_bits,reduce_bits,side_bits" ]] ||
  fail "bias CSV header: $(head -1 "$out/bias.csv")"
[[ $(wc -l <"$out/bias.csv") -eq 5 ]] || fail "bias CSV rows: $(cat "$out/bias.csv")"
"$experiment" single --log2d 6 --trials 1 --sigmas 1 --quiet --csv >"$out/single.csv"
[[ $(head -1 "$out/single.csv") == "sigma,quantizer,biased,vnmse_mean,vnmse_std,expected_vnmse,solve_ms" ]] ||
  fail "single CSV header: $(head -1 "$out/single.csv")"
"$experiment" gaussianity --log2d 4 --seeds 4 --quiet --csv >"$out/gaussianity.csv"
[[ $(head -1 "$out/gaussianity.csv") == "input,log2d,rotations,rho,kappa,adaptive,kolmogorov,k_floor,w1,cov_rms,cov2_rms,k_over_k2" ]] ||
  fail "gaussianity CSV header: $(head -1 "$out/gaussianity.csv")"
# Progress goes to stderr, never into the table.
run2 "$experiment" bias --log2d 6 --trials 1 --quantizers rtn --csv >"$out/p.csv" 2>"$out/p.err"
grep -q "bias: " "$out/p.err" || fail "no progress on stderr"
! grep -q "ETA" "$out/p.csv" || fail "progress in stdout"
# The real vectors of data/ (data/README.md): 8 shards' gradients of an MLP, one row per rank.
data="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../data" && pwd)/digits_mlp.h5"
run2 "$experiment" bias --dist file --file "$data" --dataset gradients --d 9610 --inputs iid \
  --rotations 2 --trials 2 --quantizers quiver,kmeans --quiet --csv >"$out/data.csv"
[[ $(wc -l <"$out/data.csv") -eq 5 ]] || fail "bias on data/ gradients: $(cat "$out/data.csv")"
# Experiment configurations (data/experiments/): read with --config, the command line wins.
(cd "$(dirname "$data")/.." && run2 "$experiment" bias --config data/experiments/bias_digits.cfg \
  --trials 1 --quantizers quiver --quiet --csv) >"$out/cfg.csv"
[[ $(wc -l <"$out/cfg.csv") -eq 3 ]] || fail "bias --config: $(cat "$out/cfg.csv")"
grep -q "^quiver,0,allgather,2," "$out/cfg.csv" || fail "bias --config rows: $(cat "$out/cfg.csv")"
expect_error "cannot read --config file '$out/none.cfg'" "$experiment" single --config "$out/none.cfg"
# Not an options file: an error, not a run with every option at its default (they ran).
expect_error "--config '$out' is a directory" "$experiment" single --config "$out"
expect_error "is larger than 1 MiB" "$experiment" single --config /dev/zero
printf 'sigmas = 1\0\n' >"$out/nul.cfg"
expect_error "holds a NUL byte at offset 10" "$experiment" single --config "$out/nul.cfg"
"$experiment" single --config <(printf 'sigmas = 0.25\n') --log2d 4 --trials 1 --quiet \
  >"$out/stdout" || fail "single --config from a pipe"
grep -qE "^ +0.2500 " "$out/stdout" || fail "single --config from a pipe: $(cat "$out/stdout")"
printf 'sigmas = 1\nnosuch = 3\n' >"$out/bad.cfg"
expect_error "nosuch" "$experiment" single --config "$out/bad.cfg"
printf 'd = -5\n' >"$out/neg.cfg"
expect_error "--d must be a non-negative whole number, got '-5'" "$experiment" single --config "$out/neg.cfg"
# Faults inside a sweep point reach the ranks that sat it out (they used to wait for ever): a
# wrong file length, a d too large for zipml, a distribution that overflows float. `timeout`
# turns a hang into a failure.
expect_error "has vectors of length 9610 but d = 4096" timeout 60 "$mpiexec" "$numproc" 2 \
  "${mpi_flags[@]}" "$experiment" bias --dist file --file "$data" --dataset gradients --d 4096 \
  --trials 1 --quiet
expect_error "zipml: the exact" timeout 60 "$mpiexec" "$numproc" 2 "${mpi_flags[@]}" \
  "$experiment" bias --quantizers zipml --log2d 14 --trials 1 --quiet
expect_error "which float cannot represent" timeout 60 "$mpiexec" "$numproc" 2 "${mpi_flags[@]}" \
  "$experiment" bias --sigma 100 --log2d 10 --trials 1 --quiet
# A NaN in rank 1's row only: every rank ends with rank 1's error (collective used to hang).
if python3 -c "import h5py, numpy" 2>/dev/null; then
  python3 -c "
import h5py, numpy as np
x = np.ones((2, 4096), np.float32); x[1, 5] = np.nan
with h5py.File('$out/nan.h5', 'w') as f: f['x'] = x"
  expect_error "(rank 1): input file" timeout 60 "$mpiexec" "$numproc" 2 "${mpi_flags[@]}" \
    "$experiment" collective --dist file --file "$out/nan.h5" --dataset x --log2d 12 --quiet
  grep -q "holds a non-finite value (nan) at index 5" "$out/stderr" || fail "NaN not named"
fi
# Ranks given different options (an MPMD launch, a --config file that differs between nodes, an
# environment one node lacks) stop together, naming the option, before any collective: the
# mismatched MPI_Allreduce lengths of the first case crashed the job (double free).
mpmd() { timeout 60 "$mpiexec" "${mpi_flags[@]}" "$numproc" 1 "$experiment" "$@"; }
differ="(rank 1): the options differ across ranks: rank 1 has --log2d 12, rank 0 has --log2d 10"
expect_error "$differ" mpmd collective --log2d 10 --quiet : "$numproc" 1 "$experiment" collective \
  --log2d 12 --quiet
printf 'trials = 2\n' >"$out/a.cfg"
printf 'trials = 3\n' >"$out/b.cfg"
expect_error "rank 1 has --trials 3, rank 0 has --trials 2" mpmd collective --log2d 4 \
  --config "$out/a.cfg" : "$numproc" 1 "$experiment" collective --log2d 4 --config "$out/b.cfg"
# --threads and --simd may differ (the results do not depend on them).
mpmd collective --log2d 4 --trials 1 --quiet --threads 2 : "$numproc" 1 "$experiment" collective \
  --log2d 4 --trials 1 --quiet --simd sse4 >"$out/stdout" 2>"$out/stderr" ||
  { cat "$out/stderr"; fail "collective with per-rank --threads and --simd"; }
expect_error "rank 1 has --help, rank 0 has no --help" mpmd single --log2d 4 : "$numproc" 1 \
  "$experiment" single --log2d 4 --help
expect_error "(rank 1): DME_SIMD=nosuch: unknown SIMD target" mpmd collective --log2d 4 : \
  -x DME_SIMD=nosuch "$numproc" 1 "$experiment" collective --log2d 4
expect_error "(rank 1): cannot read --config file '$out/none.cfg'" mpmd single --log2d 4 : \
  "$numproc" 1 "$experiment" single --log2d 4 --config "$out/none.cfg"
# An error in the options is every rank's alike: rank 0 alone prints it.
for args in "collective --trials 0 --log2d 4" "bias --quantizers nosuch" "train --steps 0" \
  "schemes --bits 0" "single --s 1" "gaussianity --log2d 40"; do
  read -r -a argv <<<"$args"
  expect_error "dme error (rank 0)" run2 "$experiment" "${argv[@]}"
  [[ $(grep -c "dme error" "$out/stderr") -eq 1 ]] ||
    fail "printed by every rank: $(cat "$out/stderr")"
done
echo "cli OK"
