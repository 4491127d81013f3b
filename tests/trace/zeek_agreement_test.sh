#!/usr/bin/env bash
# Checks `synack trace --zeek` against Zeek's own test baselines in
# shared/captures/truth/zeek-baselines/: conn_state, history, byte and packet
# counts of every TCP connection those baselines record for our captures.
set -u
shared=${SYNACK_SHARED:-}
bin=${SYNACK_BIN:-}
base="$shared/captures/truth/zeek-baselines"
[ -n "$shared" ] && [ -d "$base" ] || { echo "no zeek baselines: skipped"; exit 77; }
[ -x "$bin" ] || { echo "SYNACK_BIN not set"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Which capture each conn.log baseline was produced from (Zeek's btests).
pairs="core.tcp.missing-syn.conn.log zeek/missing-syn.pcap
core.history-flip.conn.log zeek/missing-syn.pcap
core.conn-size-flip.conn.log.one-sided zeek/one-sided-2745.pcap
core.tcp.rxmit-history.conn-1.log zeek/retransmit-fast009.pcap
opt.basic.conn.log zeek/wikipedia.pcap"

fail=0 checked=0
while read -r log cap; do
    "$bin" trace --zeek "$shared/captures/$cap" >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: synack trace --zeek $cap"; cat "$tmp/err"; exit 1; }
    out=$(awk -F'\t' -v mine="$tmp/out" -v name="$log" '
    BEGIN {
        split("duration conn_state history orig_bytes resp_bytes orig_pkts orig_ip_bytes resp_pkts resp_ip_bytes", want, " ")
        getline hdr < mine; nm = split(hdr, mh, "\t"); for (i = 1; i <= nm; i++) mc[mh[i]] = i
        while ((getline line < mine) > 0) { split(line, f, "\t"); key = f[mc["id.orig_h"]] " " f[mc["id.orig_p"]] " " f[mc["id.resp_h"]] " " f[mc["id.resp_p"]]; M[key] = line }
    }
    /^#fields/ { sub(/^#fields\t/, ""); n = split($0, h, "\t"); for (i = 1; i <= n; i++) c[h[i]] = i; next }
    /^#/ { next }
    !hdrseen && !("id.orig_h" in c) && /id\.orig_h/ { n = split($0, h, "\t"); for (i = 1; i <= n; i++) c[h[i]] = i; hdrseen = 1; next }
    ("id.orig_h" in c) {
        if (("proto" in c) && $c["proto"] != "tcp") next
        key = $c["id.orig_h"] " " $c["id.orig_p"] " " $c["id.resp_h"] " " $c["id.resp_p"]
        if (!(key in M)) { printf "FAIL %s: no connection %s\n", name, key; bad++; next }
        split(M[key], f, "\t")
        for (i = 1; i in want; i++) {
            w = want[i]
            if (!(w in c)) continue
            total++
            if ($c[w] != f[mc[w]]) { printf "FAIL %s: %s %s: zeek \"%s\" synack \"%s\"\n", name, key, w, $c[w], f[mc[w]]; bad++ }
        }
        conns++
    }
    END { printf "%s: %d connections, %d fields compared, %d differ\n", name, conns, total, bad + 0; exit bad > 0 || conns == 0 }' "$base/$log")
    rc=$?
    echo "$out"
    [ $rc -eq 0 ] || fail=1
    checked=$((checked + 1))
done <<<"$pairs"

# conn_state-RST-behavior: Zeek pairs each history with its conn_state.
"$bin" trace --zeek "$shared/captures/zeek/syn-then-rst.pcap" | tail -n +2 | cut -f8,9 >"$tmp/rst"
read -r state hist <"$tmp/rst"
if grep -qx "$hist, $state" "$base/scripts.base.protocols.conn.conn_state-RST-behavior.out"; then
    echo "conn_state-RST-behavior: syn-then-rst history $hist -> $state as in Zeek"
else
    echo "FAIL conn_state-RST-behavior: syn-then-rst gave '$hist, $state', not in the baseline"; fail=1
fi

# connection_flip_roles: the reordered handshake's originator is the client.
orig=$(grep -o 'connection_state_remove, \[orig_h=[^,]*, orig_p=[0-9]*' "$base/core.connection_flip_roles.out" | sed 's/.*orig_h=//; s/, orig_p=/ /')
got=$("$bin" trace --zeek "$shared/captures/zeek/handshake-reorder.pcap" | awk -F'\t' 'NR == 2 { print $1, $2 }')
if [ "$orig" = "$got" ]; then
    echo "connection_flip_roles: originator $got as in Zeek"
else
    echo "FAIL connection_flip_roles: originator '$got', Zeek says '$orig'"; fail=1
fi

# fin-retransmit: packets and IP bytes of originator and responder.
want=$(grep -o 'num_pkts=[0-9]*, num_bytes_ip=[0-9]*' "$base/core.tcp.fin-retransmit.out" | sed 's/num_pkts=//; s/, num_bytes_ip=/ /' | tr '\n' ' ')
got=$("$bin" trace --zeek "$shared/captures/zeek/fin_retransmission.pcap" | awk -F'\t' 'NR == 2 { printf "%s %s %s %s ", $10, $11, $12, $13 }')
if [ "$want" = "$got" ]; then
    echo "fin-retransmit: packets/IP bytes '$got' as in Zeek"
else
    echo "FAIL fin-retransmit: '$got', Zeek says '$want'"; fail=1
fi
exit $fail
