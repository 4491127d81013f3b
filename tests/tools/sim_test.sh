#!/usr/bin/env bash
# `synack sim`: 900 seeds of the deterministic simulator under
# faults (docs/simulation.md), its one-line errors for bad arguments, and
# the checker itself: a broken application must be caught, minimized,
# replayed the same way, and traced (pcap and state log).
set -euo pipefail
bin=${SYNACK_BIN:?}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "sim_test: $*"; exit 1; }

# ---- the seeds: a clean network, then faults, then every fault at once ----
"$bin" sim --seed 1 --seeds 300 --stacks 2 --time 30 --quiet || fail "seeds 1..300 (no faults) failed"
"$bin" sim --seed 301 --seeds 300 --stacks 3 --time 30 --loss 0.1 --reorder 0.05 --dup 0.02 --corrupt 0.02 --quiet ||
    fail "seeds 301..600 (faults) failed"
"$bin" sim --seed 601 --seeds 300 --stacks 4 --time 30 --loss 0.3 --reorder 0.1 --dup 0.05 --corrupt 0.05 --vary \
    --flaps --quiet || fail "seeds 601..900 (heavy faults, flaps) failed"

# ---- bad arguments: one line on stderr, exit 2 ----
for args in "--stacks 1" "--stacks 10" "--loss 1.5" "--loss 1" "--seed x" "--seeds 0" "--time 0" "--bogus" \
    "--inject nothing" "--seed 1 --seeds 2 --ops 1" "--ops 99999" "extra"; do
    set +e
    # shellcheck disable=SC2086
    err=$("$bin" sim $args 2>&1 >/dev/null)
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || fail "'sim $args' exited $rc, expected 2"
    [ "$(wc -l <<<"$err")" -eq 1 ] || fail "'sim $args' printed more than one line: $err"
    grep -q "^synack sim: " <<<"$err" || fail "'sim $args': no 'synack sim:' prefix: $err"
done

# ---- the checker catches a corrupted byte, minimizes, traces ----
set +e
out=$("$bin" sim --seed 7 --stacks 3 --time 20 --loss 0.05 --inject data --out "$dir")
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "an application reading a corrupted byte went unnoticed (exit $rc): $out"
grep -q "seed 7: FAILED .*(data): conn .* byte .* of the stream is" <<<"$out" || fail "no data failure line: $out"
grep -q "minimized: [0-9]* of [0-9]* operations still fail" <<<"$out" || fail "no minimization: $out"
read -r kept total < <(sed -n 's/.*minimized: \([0-9]*\) of \([0-9]*\) operations.*/\1 \2/p' <<<"$out")
[ "$kept" -lt "$total" ] || fail "minimization kept all $total operations"
[ -s "$dir/sim-7.pcap" ] || fail "no capture of the minimal run"
grep -q "INVARIANT BROKEN (data)" "$dir/sim-7.log" || fail "the state log lacks the failure"
grep -q "SYN_SENT -> ESTABLISHED" "$dir/sim-7.log" || fail "the state log lacks the state changes"
# the minimal run replays the same way, log for log
replay=$(sed -n 's/.*replay the minimal run: synack \(.*\)$/\1/p' <<<"$out")
[ -n "$replay" ] || fail "no replay command: $out"
cp "$dir/sim-7.log" "$dir/first.log"
cp "$dir/sim-7.pcap" "$dir/first.pcap"
mkdir "$dir/again"
set +e
# shellcheck disable=SC2086
"$bin" $replay --no-minimize --out "$dir/again" >/dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "the minimal run did not fail again on replay (exit $rc)"
cmp -s "$dir/first.pcap" "$dir/again/sim-7.pcap" || fail "replay: a different capture"
diff <(grep -v '^#' "$dir/first.log") <(grep -v '^#' "$dir/again/sim-7.log") >/dev/null || fail "replay: a different state log"
if command -v tshark >/dev/null; then
    if tshark -r "$dir/sim-7.pcap" 2>&1 | grep -qi malformed; then fail "tshark: malformed packet in the trace"; fi
fi

# ---- and a socket the application never closes: memory does not return ----
set +e
out=$("$bin" sim --seed 3 --stacks 2 --time 10 --inject leak --no-minimize --out "$dir")
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "a leaked socket went unnoticed (exit $rc): $out"
grep -q "FAILED .*(memory): stack [0-9]*: [0-9]* handles open, but the applications hold" <<<"$out" ||
    fail "no memory failure: $out"

# ---- a passing seed's trace is the same run after run ----
"$bin" sim --seed 5 --stacks 3 --time 10 --loss 0.1 --trace --out "$dir" >/dev/null
mv "$dir/sim-5.pcap" "$dir/a.pcap"
mv "$dir/sim-5.log" "$dir/a.log"
"$bin" sim --seed 5 --stacks 3 --time 10 --loss 0.1 --trace --out "$dir" >/dev/null
cmp -s "$dir/a.pcap" "$dir/sim-5.pcap" || fail "seed 5 twice: different captures"
cmp -s "$dir/a.log" "$dir/sim-5.log" || fail "seed 5 twice: different state logs"
echo "sim_test: ok"
