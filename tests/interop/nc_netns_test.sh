#!/usr/bin/env bash
# `synack listen --netns NAME` puts its TUN device in the namespace NAME with
# the kernel at 198.18.0.1 and synack at 198.18.0.2, where a kernel client
# reaches it; `synack connect --netns` makes a namespace of its own, reports
# the kernel's answer (nothing listens: connection refused, from the
# kernel's RST) in one line, exits non-zero, and deletes the namespace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require

ns=""
netns_create ns
trap interop_cleanup EXIT
make_file "$WORK/in" 100000
s=""
synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" listen -v --timeout 30 --netns "$ns" --pcap "$WORK/cap.pcap" 7000
wait_grep "$WORK/err" LISTEN 10 || { echo "FAIL: synack listen --netns did not start" >&2; cat "$WORK/err" >&2; exit 1; }
# the listing goes to a variable first: grep -q leaving early would SIGPIPE
# ip, and pipefail would call that a failure (seen under load)
addrs=$(ip -n "$ns" addr show dev sk0)
grep -q "inet $K/24" <<<"$addrs" || { echo "FAIL: sk0 has no kernel address: $addrs" >&2; exit 1; }
ip netns exec "$ns" nc -N "$S" 7000 </dev/null >"$WORK/out"
wait_pid "$s" 30 "synack listen --netns"
expect_same "$WORK/in" "$WORK/out" "listen --netns"
expect_no_rst "$WORK/cap.pcap" "listen --netns"
[ -e "/run/netns/$ns" ] || { echo "FAIL: listen --netns deleted a namespace it did not make" >&2; exit 1; }
echo "ok: listen --netns $ns"

rc=0
out=$(timeout 30 "$SYNACK" connect --netns "$K" 9 </dev/null 2>&1) || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: connect to a closed port exited $rc" >&2; echo "$out" >&2; exit 1; }
echo "$out" | grep -q 'connection refused' || { echo "FAIL: no reason given: $out" >&2; exit 1; }
made=$(echo "$out" | sed -n 's/^synack: namespace \([^:]*\):.*/\1/p')
[ -n "$made" ] || { echo "FAIL: connect --netns did not say which namespace: $out" >&2; exit 1; }
[ ! -e "/run/netns/$made" ] || { echo "FAIL: namespace $made left behind" >&2; ip netns del "$made"; exit 1; }
echo "ok: connect --netns: $(echo "$out" | tail -1)"
