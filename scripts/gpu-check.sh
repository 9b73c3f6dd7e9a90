#!/usr/bin/env bash
# The GPU check of the CUDA backend, in one go and well under 10 minutes: builds for this
# machine's GPU, runs the CUDA tests (CPU-GPU parity), the --backend cuda benchmarks beside the
# CPU ones, and 2-rank MPI runs with backend cuda and cpu, and writes every figure and log under
# OUT_DIR with a summary (summary.txt: one line per step, its status and seconds).
#
#   scripts/gpu-check.sh                 install what is missing, build (BUILD_DIR), check
#   scripts/gpu-check.sh --bundle DIR    build here (no GPU needed), then copy the programs, the
#                                        shared libraries they need (not the C library, not the
#                                        driver) and Open MPI's runtime into DIR: for GPU nodes
#                                        that have the driver but none of dme's packages
#   scripts/gpu-check.sh --prebuilt DIR  check with the programs of a --bundle DIR, no build
#
# Environment: BUILD_DIR (default build-gpu), OUT_DIR (default results/gpu), CUDA_ARCH (default:
# the GPU's compute capability from nvidia-smi; 90, the H100/H200, for --bundle without a GPU),
# RANKS (default 2).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build=${BUILD_DIR:-build-gpu}
out=${OUT_DIR:-results/gpu}
ranks=${RANKS:-2}
mode=check
bundle=""
case "${1:-}" in
  --bundle) mode=bundle; bundle=${2:?"--bundle needs a folder"} ;;
  --prebuilt) mode=prebuilt; bundle=${2:?"--prebuilt needs a folder"} ;;
  "") ;;
  *) echo "usage: $0 [--bundle DIR | --prebuilt DIR]" >&2; exit 2 ;;
esac
programs=(tests/cuda/test_cuda tests/cuda/test_cuda_mpi apps/dme-bench apps/dme-experiment)

gpu_arch() {
  if [[ -n "${CUDA_ARCH:-}" ]]; then echo "$CUDA_ARCH"; return; fi
  local cap
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
  echo "${cap:-90}"
}

build_programs() {
  bash scripts/install-deps.sh
  command -v nvcc >/dev/null || export PATH=/usr/local/cuda/bin:$PATH
  local arch
  arch=$(gpu_arch)
  echo "gpu-check: building for sm_$arch in $build"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DDME_ENABLE_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$arch" >/dev/null || exit 1
  cmake --build "$build" -j "$(nproc)" --target test_cuda test_cuda_mpi dme-bench dme-experiment \
    || exit 1
}

# ---- --bundle: programs + their shared libraries + Open MPI's runtime ------------------------
system_lib() {  # the C library and the driver come from the node itself
  case "$(basename "$1")" in
    libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | libresolv.so* | ld-linux* | \
      libcuda.so* | libnvidia*) return 0 ;;
  esac
  return 1
}

needed_by_programs() {  # is library $1 among the programs' own dependencies?
  local p
  for p in "${programs[@]}"; do
    ldd "$build/$p" 2>/dev/null | awk '{print $3}' | grep -qxF "$1" && return 0
  done
  return 1
}

make_bundle() {
  build_programs
  rm -rf "$bundle"
  mkdir -p "$bundle/bin" "$bundle/lib" "$bundle/mpi-lib"
  local elves=()
  for p in "${programs[@]}"; do
    cp "$build/$p" "$bundle/bin/"
    elves+=("$build/$p")
  done
  # Open MPI at its configured paths (a single-node mpirun forks the ranks itself: no orted).
  local ompi_lib pmix_lib
  ompi_lib=$(ompi_info --path pkglibdir --parsable 2>/dev/null | sed -n 's/^path:pkglibdir://p')
  ompi_lib=${ompi_lib%/openmpi3}
  ompi_lib=${ompi_lib%/lib}  # the folder of lib/ and lib/openmpi3
  pmix_lib=$(dirname "$(readlink -f "$(ldconfig -p | awk '/libpmix.so.2 /{print $NF; exit}')")")
  # Only what a run needs: the plugin folders and help texts, without the plugins of networks
  # a one-node check does not use (their libraries are large).
  mkdir -p "$bundle/ompi/openmpi/lib" "$bundle/ompi/pmix/lib"
  cp -rL "$ompi_lib/lib/openmpi3" "$bundle/ompi/openmpi/lib/"
  find "$bundle/ompi/openmpi/lib/openmpi3" -regextype egrep \
    -regex '.*(ucx|ofi|verbs|openib|psm|portals|usnic|hcoll|fca|mxm|knem|xpmem|cuda|java).*' -delete
  [[ -d /usr/share/openmpi ]] && cp -rL /usr/share/openmpi "$bundle/ompi/share-openmpi"
  if [[ -n "$pmix_lib" ]]; then
    cp -rL "$pmix_lib/pmix" "$bundle/ompi/pmix/lib/"
    [[ -d "$pmix_lib/../share" ]] && cp -rL "$pmix_lib/../share" "$bundle/ompi/pmix/"
    dirname "$pmix_lib" >"$bundle/ompi/pmix.path"
  fi
  cp -L "$(command -v orterun || command -v mpirun)" "$bundle/bin/mpirun"
  echo "$ompi_lib" >"$bundle/ompi/openmpi.path"
  elves+=("$bundle/bin/mpirun")
  while IFS= read -r f; do elves+=("$f"); done < <(find "$bundle/ompi" -name '*.so*' -type f)
  # lib/: what the programs need besides MPI; mpi-lib/: Open MPI and what it needs, used only
  # where the node has no Open MPI of its own (its own plugins need its own libraries).
  local lib mpi_re='^lib(mpi|open-(pal|rte)|oshmem|pmix|event|hwloc|fabric|uc[pstm]|nl-|ibverbs|rdmacm|psm|munge|udev)'
  for e in "${elves[@]}"; do
    ldd "$e" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3}'
  done | sort -u | while IFS= read -r lib; do
    system_lib "$lib" && continue
    if [[ "$(basename "$lib")" =~ $mpi_re ]] || ! needed_by_programs "$lib"; then
      cp -L "$lib" "$bundle/mpi-lib/"
    else
      cp -L "$lib" "$bundle/lib/"
    fi
  done
  (cd "$root" && git rev-parse HEAD 2>/dev/null) >"$bundle/commit"
  strip --strip-unneeded "$bundle"/bin/* "$bundle"/lib/* "$bundle"/mpi-lib/* 2>/dev/null
  echo "gpu-check: bundle in $bundle ($(du -sh "$bundle" | cut -f1)); on the GPU node:"
  echo "  scripts/gpu-check.sh --prebuilt $bundle"
}

# The bundle's libraries first; Open MPI: the node's own when it has one (dme's programs take
# any Open MPI 4.x or 5.x libmpi.so.40), else the bundle's, its plugin folders linked at the
# paths it was built for where nothing is there.
use_bundle() {
  local b p
  b=$(cd "$bundle" && pwd)
  bin="$b/bin"
  if mpirun --version 2>/dev/null | grep -q "Open MPI"; then
    echo "gpu-check: the node's $(mpirun --version | head -1)" >&2
    mpirun_cmd=(mpirun)
    export LD_LIBRARY_PATH="$b/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    return
  fi
  echo "gpu-check: the bundle's Open MPI" >&2
  mpirun_cmd=("$b/bin/mpirun")
  export LD_LIBRARY_PATH="$b/lib:$b/mpi-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  p=$(cat "$b/ompi/openmpi.path")
  [[ -e "$p" ]] || { mkdir -p "$(dirname "$p")" && ln -s "$b/ompi/openmpi" "$p"; }
  [[ -e /usr/share/openmpi || ! -d "$b/ompi/share-openmpi" ]] ||
    ln -s "$b/ompi/share-openmpi" /usr/share/openmpi
  if [[ -f "$b/ompi/pmix.path" ]]; then
    p=$(cat "$b/ompi/pmix.path")
    [[ -e "$p" ]] || { mkdir -p "$(dirname "$p")" && ln -s "$b/ompi/pmix" "$p"; }
  fi
}

# ---- the checks --------------------------------------------------------------------------------
failures=0
step() {  # step NAME TIMEOUT_S command... : output to $out/NAME.log, a line in summary.txt
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS rc
  echo "gpu-check: $name" >&2
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  rc=$?
  local status=ok
  ((rc == 0)) || { status="FAILED (exit $rc)"; failures=$((failures + 1)); }
  ((rc == 124)) && status="TIMED OUT after ${limit}s"
  printf '%-24s %-22s %4ds\n' "$name" "$status" $((SECONDS - t0)) | tee -a "$out/summary.txt" >&2
}

run_checks() {
  mkdir -p "$out"
  : >"$out/summary.txt"
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 \
    OMPI_MCA_mca_base_component_show_load_errors=0
  local mpi=("${mpirun_cmd[@]}" -n "$ranks" --oversubscribe -x LD_LIBRARY_PATH)
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "commit: $(cat "${bundle:-/nonexistent}/commit" 2>/dev/null || git rev-parse HEAD)"
    echo "host: $(uname -n), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
      "$(nproc) cores, $(ldd --version 2>&1 | head -1)"
    echo "cpu flags: $(grep -o -m1 -w 'avx512f' /proc/cpuinfo || echo 'no avx512f')," \
      "$("$bin/dme-bench" rotation --log2d 10 --reps 1 2>&1 | head -1)"
    nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,clocks.max.sm \
      --format=csv 2>&1
  } >"$out/device.txt"
  cat "$out/device.txt" >&2
  local b=(--csv)
  step test_cuda 150 "$bin/test_cuda" --gtest_output="xml:$out/test_cuda.xml"
  step test_cuda_mpi 90 "${mpi[@]}" "$bin/test_cuda_mpi"
  step rotation_cuda_r1 60 "$bin/dme-bench" rotation --backend cuda --log2d 20,24,26 \
    --rotations 1 "${b[@]}"
  step rotation_cuda_r2 60 "$bin/dme-bench" rotation --backend cuda --log2d 20,24,26 \
    --rotations 2 "${b[@]}"
  step pipeline_cuda 60 "$bin/dme-bench" pipeline --backend cuda --log2d 20,24,26 "${b[@]}"
  # The CPU beside it, with each wide SIMD target the host has (one core).
  local simd available
  available=$("$bin/dme-bench" rotation --log2d 10 --reps 1 2>&1 | sed -n 's/.*available: \([^;]*\);.*/\1/p')
  for simd in avx512 avx2 neon sve; do
    [[ " $available " == *" $simd "* ]] || continue
    step "rotation_cpu_$simd" 60 "$bin/dme-bench" rotation --simd "$simd" --log2d 20,24 \
      --rotations 2 --reps 3 "${b[@]}"
    step "pipeline_cpu_$simd" 60 "$bin/dme-bench" pipeline --simd "$simd" --log2d 20,24 --reps 3 \
      "${b[@]}"
  done
  step solvers_cuda 60 "$bin/dme-bench" solvers --backend cuda --log2d 20,24 --s 16 \
    --solvers quiver-apx,quiver,kmeans "${b[@]}"
  step solvers_cpu 60 "$bin/dme-bench" solvers --backend cpu --log2d 20 --s 16 \
    --solvers quiver-apx,quiver,kmeans "${b[@]}"
  for backend in cuda cpu; do
    step "collective_$backend" 90 "${mpi[@]}" "$bin/dme-experiment" collective \
      --backend "$backend" --log2d 20,24 --trials 3 --quiet --csv \
      --out "$out/collective_$backend.h5" --force
  done
  echo "failed steps: $failures" | tee -a "$out/summary.txt" >&2
  return $((failures > 0))
}

case "$mode" in
  bundle) make_bundle ;;
  prebuilt)
    use_bundle
    run_checks
    ;;
  check)
    build_programs
    # The programs live in different folders of a build tree: link them into one.
    mkdir -p "$build/gpu-check-bin"
    for p in "${programs[@]}"; do ln -sf "$root/$build/$p" "$build/gpu-check-bin/"; done
    bin="$root/$build/gpu-check-bin"
    mpirun_cmd=(mpirun)
    run_checks
    ;;
esac
