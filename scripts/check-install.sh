#!/usr/bin/env bash
# Installs a configured dme build into a fresh prefix, builds examples/ against the installed CMake
# package (find_package(dme CONFIG), dme::dme) and runs the example on 2 ranks.
#   usage: scripts/check-install.sh [BUILD_DIR]   (default build; the prefix and the example's
#   build go under BUILD_DIR/install-check)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=$(cd "${1:-$root/build}" && pwd)
work="$build/install-check"
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$root/examples" -B "$work/examples" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/examples"
# Open MPI: run as root and on more ranks than cores only because this is a test machine.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpiexec -n 2 --oversubscribe "$work/examples/average_vectors" 65536
echo "check-install: examples/ built against the installed dme package and ran on 2 ranks"
