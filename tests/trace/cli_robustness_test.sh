#!/usr/bin/env bash
# `synack trace` on the command line: unreadable files fail with a one-line
# reason and a non-zero exit; damaged captures, unknown link types and stdin
# are handled, reported and counted; the filter and --stream select packets.
set -u
shared=${SYNACK_SHARED:-}
bin=${SYNACK_BIN:-}
[ -n "$shared" ] && [ -d "$shared/captures" ] || { echo "no shared captures: skipped"; exit 77; }
[ -x "$bin" ] || { echo "SYNACK_BIN not set"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # description, condition result
    if [ "$2" -eq 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fail=1; fi
}
caps="$shared/captures"

# A missing file: exit status 1, one line on stderr naming the file.
"$bin" trace "$tmp/nonexistent.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q nonexistent "$tmp/err"
check "missing file: exit 1 with a one-line reason" $?

# Not a capture at all.
head -c 100 /dev/urandom >"$tmp/garbage.pcap"
"$bin" trace "$tmp/garbage.pcap" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
check "garbage file: exit 1 with a one-line reason" $?

# A capture cut in the middle of a record: what was read is analysed, the
# damage is reported, and the exit status is still 0.
src="$caps/zeek/wikipedia.pcap"
size=$(stat -c %s "$src")
head -c $((size / 2 + 7)) "$src" >"$tmp/cut.pcap"
"$bin" trace --tsv "$tmp/cut.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
rows=$(($(wc -l <"$tmp/out") - 1))
[ $rc -eq 0 ] && [ "$rows" -gt 0 ] && grep -qi "stopped after frame\|damaged" "$tmp/err"
check "truncated capture: $rows rows analysed, damage reported" $?

# The same rows as the first rows of the whole file (a cut changes nothing before it).
"$bin" trace --tsv "$src" | head -n $((rows + 1)) >"$tmp/full"
cmp -s "$tmp/out" "$tmp/full"
check "truncated capture: rows identical to the untruncated file" $?

# An unknown link type (LINKTYPE_USER0 = 147 patched into a pcap header):
# every frame skipped, counted and named on stderr, exit 0.
src="$caps/zeek/syn-then-rst.pcap"
{ head -c 20 "$src"; printf '\x93\x00\x00\x00'; tail -c +25 "$src"; } >"$tmp/user0.pcap"
"$bin" trace "$tmp/user0.pcap" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -q "not decoded; 2 frames skipped" "$tmp/err"
check "unknown link type: frames counted and skipped" $?

# Non-TCP frames are counted by reason.
"$bin" trace -q "$caps/PcapPlusPlus/sll.pcap" >/dev/null 2>"$tmp/err"
grep -q "IP but not TCP" "$tmp/err"
check "UDP and other non-TCP frames reported by reason" $?

# Standard input gives the same rows as the file.
"$bin" trace --tsv - <"$caps/zeek/missing-syn.pcap" >"$tmp/stdin.tsv"
"$bin" trace --tsv "$caps/zeek/missing-syn.pcap" >"$tmp/file.tsv"
cmp -s "$tmp/stdin.tsv" "$tmp/file.tsv" && [ "$(wc -l <"$tmp/file.tsv")" -eq 22 ]
check "'-' reads standard input" $?

# --stream N keeps exactly the rows of that stream, and analysis is unchanged.
"$bin" trace --tsv "$caps/zeek/wikipedia.pcap" | awk -F'\t' 'NR == 1 || $2 == "3"' >"$tmp/want"
"$bin" trace --tsv --stream 3 "$caps/zeek/wikipedia.pcap" >"$tmp/got"
cmp -s "$tmp/want" "$tmp/got" && [ "$(wc -l <"$tmp/got")" -gt 2 ]
check "--stream 3 selects stream 3's rows" $?

# A BPF filter (trailing words, tcpdump style) selects packets to show.
"$bin" trace --tsv "$caps/zeek/wikipedia.pcap" 'tcp port 35642' >"$tmp/got"
"$bin" trace --tsv "$caps/zeek/wikipedia.pcap" | awk -F'\t' 'NR == 1 || $5 == "35642" || $8 == "35642"' >"$tmp/want"
cmp -s "$tmp/want" "$tmp/got" && [ "$(wc -l <"$tmp/got")" -gt 2 ]
check "BPF filter selects the packets of one port" $?
"$bin" trace -f 'tcp[tcpflags] & tcp-syn != 0' --tsv "$caps/zeek/wikipedia.pcap" | tail -n +2 | cut -f9 | grep -vc S >"$tmp/n"
[ "$(cat "$tmp/n")" -eq 0 ]
check "-f with a SYN filter shows only SYN segments" $?
"$bin" trace -f 'this is not bpf' "$caps/zeek/wikipedia.pcap" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q filter "$tmp/err"
check "a bad filter is a one-line error" $?

# JSON is well formed and holds one connection per stream.
if command -v python3 >/dev/null; then
    "$bin" trace --json "$caps/zeek/wikipedia.pcap" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["connections"]) == 10, len(d["connections"]); assert d["tcp_packets"] == 78'
    check "--json parses, 10 connections, 78 TCP packets" $?
fi

# Pictures: both SVGs are written and mention the stream's segments.
"$bin" trace -q --stream 0 --svg "$tmp/ladder.svg" --tsg "$tmp/tsg.svg" "$caps/chrissanders-packets/http_ip4and6.pcapng" >/dev/null
grep -q "SYN seq 0" "$tmp/ladder.svg" && grep -q "<polyline" "$tmp/tsg.svg" && grep -q "time-sequence graph, stream 0" "$tmp/tsg.svg"
check "--svg and --tsg write the ladder and the time-sequence graph" $?

# The human output names the seed's exchange.
out=$("$bin" trace "$caps/chrissanders-packets/http_ip4and6.pcapng")
echo "$out" | grep -q "opened:   three-way handshake" && echo "$out" | grep -q "ack 78 = 1 + 77" &&
    echo "$out" | grep -q "ack 968533977 = 968533976 + 1 (SYN)"
check "text output: handshake named, ACK arithmetic shown" $?

# Streaming: one-sided-2745's stream 0 falls silent for 4.9 hours, past the
# 3-hour idle timeout, so its report comes before stream 1's packets; with
# the timeouts off (Wireshark's way) every report waits for the end.
order() { "$bin" trace "$@" "$caps/zeek/one-sided-2745.pcap" 2>/dev/null | awk '/^stream 0:/ { printf "R" } /^ +4 / { printf "P" }'; }
[ "$(order)" = RP ] && [ "$(order --idle-timeout 0 --close-timeout 0)" = PR ]
check "a connection idle past the timeout is reported when it expires; timeouts 0 keep all to the end" $?
"$bin" trace --idle-timeout soon "$caps/zeek/wikipedia.pcap" >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "wants seconds" "$tmp/err"
check "a bad timeout is a one-line error, exit 2" $?
"$bin" trace --stats --tsv "$caps/zeek/wikipedia.pcap" 2>&1 >/dev/null | grep -q "10 TCP connections, at most [0-9]* live at once; peak RSS [0-9]* KiB"
check "--stats reports connections, live conversations and peak RSS" $?
exit $fail
