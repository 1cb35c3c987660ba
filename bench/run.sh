#!/usr/bin/env bash
# bench/run.sh: the speed figures of the synthesis, as recorded in bench/README.md.
# Runs `mesosim bench` three ways on the standard frame and prints one JSON line each:
# display image (the trainer's case), with the analysis outputs, and the baseline build of
# the hot loops. Build first (./quickstart bench builds and runs the first one).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${MESOSIM:-./build/mesosim}
[ -x "$bin" ] || { echo "bench/run.sh: build first (cmake -S . -B build && cmake --build build)" >&2; exit 1; }
frames=${FRAMES:-300}
"$bin" bench --frames "$frames" --reference-frames 3 --json
"$bin" bench --frames "$frames" --reference-frames 0 --with-analysis --json
"$bin" bench --frames "$frames" --reference-frames 0 --isa base --json
"$bin" bench --frames "$frames" --reference-frames 0 --threads 1 --json
