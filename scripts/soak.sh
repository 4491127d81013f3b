#!/usr/bin/env bash
# `make soak`: SOAK_SEEDS (default 10000) seeds of `synack sim` of SOAK_TIME
# (60) seconds each under heavy faults, in chunks of 250 seeds run JOBS at a
# time. Half the chunks put 30 % loss, 10 % reordering, 5 % duplication and
# 5 % corruption on every link; the other half let each link draw each rate
# in [0, that] (--vary). Every other run of 8 chunks (all kinds and stack
# counts) adds ECN: every stack asks for it (RFC 3168) and links mark 10 % of
# ECN-capable packets CE (--ce). Links go down and up; 2 to 5 stacks. A
# failing seed stops its chunk and leaves its minimized trace in BUILD/soak/. Prints one
# summary line (docs/simulation.md records the last one); exit 1 on any
# failure.
#   scripts/soak.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
seeds=${SOAK_SEEDS:-10000}
first=${SOAK_FIRST:-1}
jobs=${JOBS:-$(nproc)}
span=${SOAK_TIME:-60}
chunk=250
bin=$build/synack
out=$build/soak
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
n=0
for ((s = first; s < first + seeds; s += chunk)); do
    len=$((first + seeds - s < chunk ? first + seeds - s : chunk))
    vary=--flaps
    [ $((n % 2)) -eq 0 ] && vary="--flaps --vary"
    [ $((n / 8 % 2)) -eq 1 ] && vary="$vary --ce 0.1"
    echo "$s $len $((2 + (n / 2) % 4)) $vary"
    n=$((n + 1))
done | xargs -P "$jobs" -L 1 bash -c '
    "$0" sim --seed "$1" --seeds "$2" --stacks "$3" --time '"$span"' --loss 0.3 --reorder 0.1 --dup 0.05 \
        --corrupt 0.05 "${@:4}" --quiet --out '"$out"' >'"$out"'/chunk-"$1".txt 2>&1 || true' "$bin"
wall=$(($(date +%s) - start))
ok=$(cat "$out"/chunk-*.txt | grep -c "all invariants held" || true)
failed=$(cat "$out"/chunk-*.txt | grep -c "FAILED" || true)
conns=$(cat "$out"/chunk-*.txt | sed -n 's/.*all invariants held: \([0-9]*\) connections.*/\1/p' | awk '{t += $1} END {print t + 0}')
virt=$(cat "$out"/chunk-*.txt | sed -n 's/.* \([0-9]*\) s of virtual time.*/\1/p' | awk '{t += $1} END {print t + 0}')
frames=$(cat "$out"/chunk-*.txt | sed -n 's/.* \([0-9]*\) frames.*/\1/p' | awk '{t += $1} END {print t + 0}')
ran=$(cat "$out"/chunk-*.txt | sed -n 's/^synack sim: \([0-9]*\) seeds.*/\1/p' | awk '{t += $1} END {print t + 0}')
printf 'soak: %s seeds passed in %d clean chunks of %d (%s..%s), %d failing chunk(s); %s connections, %s frames, ' \
    "$ran" "$ok" "$(( (seeds + chunk - 1) / chunk ))" "$first" "$((first + seeds - 1))" "$failed" "$conns" \
    "$frames"
printf '%s s (%s days) of virtual time; %d s wall with %d jobs\n' "$virt" \
    "$(awk -v v="$virt" 'BEGIN {printf "%.1f", v / 86400}')" "$wall" "$jobs"
if [ "$failed" -gt 0 ]; then
    grep -h -A5 "FAILED" "$out"/chunk-*.txt
    exit 1
fi
