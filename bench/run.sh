#!/usr/bin/env bash
# `make bench`: every benchmark, each printing synack's figure, the reference
# figure from the same run, and the ratio. Usage: bench/run.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/trace/run.sh" "$build"
bash "$here/bulk/run.sh" "$build"
bash "$here/goodput/run.sh" "$build"
bash "$here/tun/run.sh" "$build"
