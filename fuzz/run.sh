#!/usr/bin/env bash
# Runs every fuzz target for a fixed time on its corpus.
#   fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
# Seeds come from mkcorpus (../shared/captures and simulator pcaps) and
# fuzz/regress/<target>/ (inputs that once failed); new inputs go to
# BUILD_DIR/fuzz/corpus/<target>. A crash, leak or failed property stops
# the run with the input saved under BUILD_DIR/fuzz/artifacts/ and exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir}
secs=${2:?seconds}
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire stack trace)
shared=${SYNACK_SHARED:-../shared}
bin=$build/fuzz

if [ ! -d "$bin/seeds/stack" ]; then
    "$bin/mkcorpus" "$shared/captures" "$bin/seeds"
fi
mkdir -p "$bin/artifacts"
declare -A maxlen=([wire]=4096 [stack]=4096 [trace]=65536)
rc=0
for t in "${targets[@]}"; do
    mkdir -p "$bin/corpus/$t"
    dirs=("$bin/corpus/$t" "$bin/seeds/$t")
    [ -d "fuzz/regress/$t" ] && dirs+=("fuzz/regress/$t")
    log=$bin/fuzz_$t.log
    echo "== fuzz_$t: ${secs}s"
    if ! "$bin/fuzz_$t" -max_total_time="$secs" -max_len="${maxlen[$t]}" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -close_fd_mask=3 -artifact_prefix="$bin/artifacts/$t-" "${dirs[@]}" >"$log" 2>&1; then
        echo "fuzz_$t FAILED; the last lines of $log:"
        tail -n 40 "$log"
        rc=1
    fi
    # the closing figures: executions, coverage (edges), features, corpus
    grep -a -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
done
exit $rc
