#!/usr/bin/env bash
# Memory follows the live connections, not the capture (issue 5): the same
# traffic of short sequential connections (one every 100 ms, so about 2,400
# are inside their 2 MSL at any time) in a file ten times longer must need no
# more live conversations and no more memory, and still report every one.
set -u
bin=${SYNACK_BIN:?}
gen=${SYNACK_BUILD:?}/trace-gencap
[ -x "$gen" ] || { echo "streaming_memory_test: $gen not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# ASan keeps freed memory in quarantine, which would look like growth.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
fail() { echo "streaming_memory_test: $*"; exit 1; }

"$gen" --short "$tmp/1x.pcap" 3000 >/dev/null || fail "gencap failed"
"$gen" --short "$tmp/10x.pcap" 30000 >/dev/null || fail "gencap failed"

# stats FILE MODE: prints "connections live rss_kib" from --stats.
stats() {
    "$bin" trace --stats "$2" "$1" 2>"$tmp/err" >"$tmp/out" || fail "synack trace $2 $1: $(cat "$tmp/err")"
    sed -n 's/.*: \([0-9]*\) TCP connections, at most \([0-9]*\) live at once; peak RSS \([0-9]*\) KiB/\1 \2 \3/p' "$tmp/err"
}

for mode in -q --zeek --json --tsv; do
    read -r n1 live1 rss1 <<<"$(stats "$tmp/1x.pcap" "$mode")"
    read -r n10 live10 rss10 <<<"$(stats "$tmp/10x.pcap" "$mode")"
    [ "$n1" = 3000 ] && [ "$n10" = 30000 ] || fail "$mode: connections $n1 / $n10, expected 3000 / 30000"
    case $mode in
        -q) reports=$(grep -c '^stream [0-9]*:' "$tmp/out") ;;
        --zeek) reports=$(($(wc -l <"$tmp/out") - 1)) ;;
        --json) reports=$(grep -c '"zeek_conn_state"' "$tmp/out") ;;
        --tsv) reports=30000 ;;
    esac
    [ "$reports" = 30000 ] || fail "$mode: $reports connection reports, expected 30000"
    [ "$live10" -le "$live1" ] && [ "$live1" -le 2401 ] || fail "$mode: live conversations $live1 (1x) and $live10 (10x)"
    # Ten times the connections kept would be tens of MiB more.
    [ "$rss10" -le $((rss1 + 3072)) ] || fail "$mode: peak RSS grew from $rss1 KiB (1x) to $rss10 KiB (10x)"
    echo "streaming_memory_test: $mode: 1x $n1 connections, $live1 live, $rss1 KiB; 10x $n10, $live10 live, $rss10 KiB"
done
echo "streaming_memory_test: ok"
