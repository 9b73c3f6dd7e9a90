#!/usr/bin/env bash
# The main job with sensible defaults: installs what is missing, builds, runs it, and prints
# where its results are. For now: the rotation benchmark at a few sizes (the bias experiment
# takes its place once it lands).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build=${BUILD_DIR:-build}
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target dme-bench
mkdir -p results
"$build/apps/dme-bench" rotation --log2d 16,20,22,24 --reps 10 | tee results/rotation.txt
echo "demo: results in $root/results/rotation.txt"
