#!/usr/bin/env bash
# `make bench`: every benchmark, each printing synack's figure, the reference
# figure from the same run, and the ratio. Usage: bench/run.sh BUILD_DIR
# QUICK=1 (`make bench QUICK=1`) runs the scale benchmarks with smaller
# counts and shorter runs.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/trace/run.sh" "$build"
bash "$here/bulk/run.sh" "$build"
bash "$here/goodput/run.sh" "$build"
bash "$here/tun/run.sh" "$build"
# ---- scale (issue 8) ----
bash "$here/connrate/run.sh" "$build"
bash "$here/pingpong/run.sh" "$build"
bash "$here/pktcost/run.sh" "$build"
bash "$here/memory/run.sh" "$build"
