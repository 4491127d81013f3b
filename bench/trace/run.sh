#!/usr/bin/env bash
# Benchmark of `synack trace` against tshark and tcpdump on one capture of at
# least 300 MB that this script makes itself (gencap.c: bulk TCP transfers
# with loss, duplicate ACKs with SACK, fast and timeout retransmissions).
# usage: bench/trace/run.sh [BUILD_DIR] [MEGABYTES] [CONNECTIONS]
# Prints packets per second of each tool from the same run, the ratios, and
# the peak memory (max RSS) of each. Targets (issue 5): synack >= 20x
# tshark's packets/s and >= tcpdump's; memory flat in the file size.
# A second capture of CONNECTIONS (default 100,000) short sequential
# connections, one every 100 ms, measures memory where it can grow: with
# the connection reports on (-q), against a tenth of that capture.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
mb=${2:-320}
nconn=${3:-100000}
bin="$build/synack"
[ -x "$bin" ] || { echo "bench/trace: $bin not built (make first)" >&2; exit 1; }
work=${SYNACK_BENCH_DIR:-${TMPDIR:-/tmp}/synack-bench-trace}
mkdir -p "$work"
cap="$work/bulk-${mb}MB.pcap"

gen="$work/gencap"
if [ ! -x "$gen" ] || [ "$here/gencap.c" -nt "$gen" ]; then
    ${CC:-cc} -std=c11 -O2 -D_DEFAULT_SOURCE -I"$root/src" "$here/gencap.c" \
        "$root"/src/wire/{ipv4,tcp,checksum,ethernet}.c -lpcap -o "$gen"
fi
[ -s "$cap" ] || "$gen" "$cap" "$mb" 16 10 >/dev/null
size=$(stat -c %s "$cap")
packets=$(tcpdump -r "$cap" -nn 2>/dev/null | wc -l)
cat "$cap" >/dev/null # the same warm page cache for every tool

# run NAME CMD...: best wall time of three runs and the peak RSS, into globals.
run() {
    local name=$1 best="" rss=0 t m
    shift
    for _ in 1 2 3; do
        /usr/bin/time -o "$work/time" -f "%e %M" "$@" >/dev/null 2>"$work/err" || { echo "$name failed:"; cat "$work/err"; exit 1; }
        read -r t m <"$work/time"
        if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
        [ "$m" -gt "$rss" ] && rss=$m
    done
    eval "${name}_t=$best ${name}_rss=$rss"
}

run synack "$bin" trace --tsv "$cap"
run tcpdump tcpdump -r "$cap" -nn
run tshark tshark -r "$cap" -T fields -e tcp.analysis.flags

# The many-connections capture, and a tenth of it.
many="$work/short-$nconn.pcap"
tenth="$work/short-$((nconn / 10)).pcap"
[ -s "$many" ] || "$gen" --short "$many" "$nconn" >/dev/null
[ -s "$tenth" ] || "$gen" --short "$tenth" "$((nconn / 10))" >/dev/null
many_size=$(stat -c %s "$many")
many_packets=$((nconn * 8))
cat "$many" "$tenth" >/dev/null
run m_synack_q "$bin" trace -q "$many"
run m_synack_tsv "$bin" trace --tsv "$many"
run m_tshark tshark -r "$many" -T fields -e tcp.analysis.flags
run m_tcpdump tcpdump -r "$many" -nn
run t_synack_q "$bin" trace -q "$tenth"

awk -v n="$packets" -v size="$size" -v st="$synack_t" -v dt="$tcpdump_t" -v wt="$tshark_t" \
    -v sm="$synack_rss" -v dm="$tcpdump_rss" -v wm="$tshark_rss" -v cap="$cap" \
    -v mcap="$many" -v mn="$many_packets" -v msize="$many_size" -v nconn="$nconn" \
    -v mq="$m_synack_q_t" -v mqm="$m_synack_q_rss" -v mt="$m_synack_tsv_t" -v mtm="$m_synack_tsv_rss" \
    -v mw="$m_tshark_t" -v mwm="$m_tshark_rss" -v md="$m_tcpdump_t" -v mdm="$m_tcpdump_rss" \
    -v tq="$t_synack_q_t" -v tqm="$t_synack_q_rss" 'BEGIN {
    if (st <= 0) st = 0.005; if (dt <= 0) dt = 0.005; if (wt <= 0) wt = 0.005
    printf "capture: %s, %.1f MB, %d packets\n", cap, size / 1e6, n
    printf "%-44s %8s %14s %10s\n", "tool", "seconds", "packets/s", "max RSS"
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "synack trace --tsv", st, n / st, sm / 1024
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "tshark -T fields -e tcp.analysis.flags", wt, n / wt, wm / 1024
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "tcpdump -nn", dt, n / dt, dm / 1024
    printf "synack/tshark: %.1fx (target 20x)   synack/tcpdump: %.2fx (target 1x)\n", wt / st, dt / st
    printf "\ncapture: %s, %.1f MB, %d packets, %d connections (one every 100 ms)\n", mcap, msize / 1e6, mn, nconn
    printf "%-44s %8s %14s %10s\n", "tool", "seconds", "packets/s", "max RSS"
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "synack trace -q (connection reports)", mq, mn / (mq > 0 ? mq : 0.005), mqm / 1024
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "synack trace --tsv", mt, mn / (mt > 0 ? mt : 0.005), mtm / 1024
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "tshark -T fields -e tcp.analysis.flags", mw, mn / (mw > 0 ? mw : 0.005), mwm / 1024
    printf "%-44s %8.2f %14.0f %7.1f MiB\n", "tcpdump -nn", md, mn / (md > 0 ? md : 0.005), mdm / 1024
    printf "synack trace -q on a tenth of it (%d connections): %.1f MiB; on all of it: %.1f MiB (target: flat)\n",
        nconn / 10, tqm / 1024, mqm / 1024
    exit !(wt / st >= 20 && dt / st >= 1 && mqm <= tqm + 4096)
}'
