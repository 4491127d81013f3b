#!/usr/bin/env bash
# Runs `synack trace --tsv/--ext` over every capture in shared/captures and
# compares each packet with Wireshark's reading in truth/*.tsv and *.ext.tsv.
# Targets (issue 5): stream, relative seq, ack and length agree on 100 % of
# packets; each analysis flag on at least 99 %. Prints the figures.
set -u
shared=${SYNACK_SHARED:-}
bin=${SYNACK_BIN:-}
[ -n "$shared" ] && [ -d "$shared/captures/truth" ] || { echo "no shared captures: skipped"; exit 77; }
[ -x "$bin" ] || { echo "SYNACK_BIN not set"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

: >"$tmp/pairs"
n=0
for cap in "$shared"/captures/*/*.pcap "$shared"/captures/*/*.pcapng; do
    [ -e "$cap" ] || continue
    dir=$(basename "$(dirname "$cap")")
    stem=$(basename "$cap"); stem=${stem%.*}
    truth="$shared/captures/truth/${dir}__${stem}"
    [ -f "$truth.tsv" ] || { echo "no truth for $cap"; exit 1; }
    "$bin" trace --tsv "$cap" >"$tmp/$n.tsv" 2>"$tmp/$n.err" || { echo "FAIL: synack trace --tsv $cap"; cat "$tmp/$n.err"; exit 1; }
    "$bin" trace --ext "$cap" >"$tmp/$n.ext" 2>>"$tmp/$n.err" || { echo "FAIL: synack trace --ext $cap"; exit 1; }
    printf '%s\t%s\t%s\t%s\t%s\n' "$truth.tsv" "$tmp/$n.tsv" "$truth.ext.tsv" "$tmp/$n.ext" "$dir/$stem" >>"$tmp/pairs"
    n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "no captures found"; exit 1; }

# Per packet (keyed by frame number) and per column: agreement counts. A
# truth row synack did not print counts as a disagreement on every column.
# _ws.expert.message holds the expert items of every protocol layer; synack
# produces the TCP dissector's, so the truth is reduced to those (no TCP
# message has a comma; a piece of another layer's message matches none).
awk -F'\t' -v pairs="$tmp/pairs" '
function load(file, arr,    line, f, hdr, i, k) {
    delete arr
    hdr = ""
    while ((getline line < file) > 0) {
        k = split(line, f, "\t")
        if (hdr == "") { hdr = line; for (i = 1; i <= k; i++) col[file, f[i]] = i; continue }
        arr[f[1]] = line
    }
    close(file)
}
function field(line, idx,    f) { split(line, f, "\t"); return f[idx] }
function tcp_only(v,    n, a, i, out) {
    n = split(v, a, ",")
    out = ""
    for (i = 1; i <= n; i++)
        if (a[i] ~ /^(Connection (establish|finish|reset)|This frame (is a|initiates|undergoes)|Previous segment|ACKed segment|Duplicate ACK|TCP (window|keep-alive|Zero Window|SYN|SYN-ACK)|ACK to a TCP|A new tcp session|The (acknowledgment number|urgent pointer) field|The SYN packet|The non-SYN packet|Short segment|Malformed Packet)/)
            out = out (out == "" ? "" : ",") a[i]
    return out
}
function compare(tfile, sfile, names, nnames, cap,    t, s, i, name, ti, si, tv, sv) {
    load(tfile, T); load(sfile, S)
    for (fr in T) {
        for (i = 1; i <= nnames; i++) {
            name = names[i]; ti = col[tfile, name]; si = col[sfile, name]
            if (!ti) continue
            tv = field(T[fr], ti)
            if (name == "_ws.expert.message") tv = tcp_only(tv)
            sv = (fr in S) ? field(S[fr], si) : "<missing>"
            total[name]++
            if (tv == sv) agree[name]++
            else if (shown[name]++ < 5) printf "  differs: %s frame %s %s: wireshark \"%s\" synack \"%s\"\n", cap, fr, name, tv, sv
        }
    }
}
BEGIN {
    nexact = split("tcp.stream tcp.seq tcp.ack tcp.len", exact, " ")
    nflags = split("tcp.analysis.retransmission tcp.analysis.fast_retransmission tcp.analysis.duplicate_ack tcp.analysis.out_of_order tcp.analysis.zero_window tcp.analysis.ack_rtt", flags, " ")
    next_ = split("tcp.analysis.spurious_retransmission tcp.analysis.lost_segment tcp.analysis.ack_lost_segment tcp.analysis.duplicate_ack_num tcp.analysis.zero_window_probe tcp.analysis.window_full tcp.analysis.window_update tcp.analysis.keep_alive tcp.analysis.initial_rtt tcp.window_size _ws.malformed _ws.expert.message", ext, " ")
    for (i = 1; i <= nexact; i++) all[++na] = exact[i]
    for (i = 1; i <= nflags; i++) all[++na] = flags[i]
    while ((getline line < pairs) > 0) {
        split(line, p, "\t")
        compare(p[1], p[2], all, na, p[5])
        compare(p[3], p[4], ext, next_, p[5])
        files++
    }
    fail = 0
    printf "agreement with tshark 4.0.17 over %d captures (packets agreeing / packets):\n", files
    for (i = 1; i <= nexact; i++) fail += report(exact[i], 100)
    for (i = 1; i <= nflags; i++) fail += report(flags[i], 99)
    for (i = 1; i <= next_; i++) fail += report(ext[i], 99)
    if (fail) { printf "FAIL: %d fields below target\n", fail; exit 1 }
    print "all fields at or above target"
}
function report(name, target,    pct) {
    pct = total[name] ? 100 * agree[name] / total[name] : 0
    printf "  %-40s %6d / %6d  %7.3f %%  (target %d %%)%s\n", name, agree[name], total[name], pct, target, ((pct + 1e-9 >= target) ? "" : "  BELOW TARGET")
    return total[name] == 0 || pct + 1e-9 < target
}'
