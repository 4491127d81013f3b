#!/usr/bin/env bash
# Captures written by trace-gentcp (tests/trace/gentcp.c), read exactly as
# tshark reads them (tests/trace/truth/, and a fresh tshark run when
# installed), every column of --tsv and --ext including the expert messages:
#   frag:  TCP in IPv4 fragments and IPv6 Fragment headers (in order, last
#          first, middle first, an 8-byte first fragment, a lost fragment and
#          the retransmitted segment);
#   flags: the analysis flags and expert messages the shared captures lack.
# hostile: overlapping, oversized, odd and 10,000 incomplete fragments are
# dropped and counted, memory stays bounded, and the two real connections
# read exactly as in frag.
set -u
bin=${SYNACK_BIN:?}
gen=${SYNACK_BUILD:?}/trace-gentcp
truth=$(cd "$(dirname "$0")" && pwd)/truth
[ -x "$gen" ] || { echo "generated_captures_test: $gen not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "generated_captures_test: $*"; exit 1; }

for mode in frag flags; do
    "$gen" "$mode" "$tmp/$mode.pcap" || fail "gentcp $mode failed"
    for kind in tsv ext; do
        "$bin" trace "--$kind" "$tmp/$mode.pcap" >"$tmp/$mode.$kind" 2>"$tmp/$mode.err" || fail "trace --$kind: $(cat "$tmp/$mode.err")"
        diff "$truth/gentcp-$mode.$kind" "$tmp/$mode.$kind" >"$tmp/d" || fail "$mode --$kind differs from tshark's: $(cat "$tmp/d")"
        if command -v tshark >/dev/null; then
            fields=$(head -1 "$tmp/$mode.$kind" | tr '\t' '\n' | sed 's/^/-e /' | tr '\n' ' ')
            # shellcheck disable=SC2086
            tshark -r "$tmp/$mode.pcap" -Y tcp -T fields -E header=y -E separator=/t $fields >"$tmp/ws" 2>/dev/null
            diff "$tmp/ws" "$tmp/$mode.$kind" >"$tmp/d" || fail "$mode --$kind differs from this tshark: $(cat "$tmp/d")"
        fi
    done
    echo "generated_captures_test: $mode: $(($(wc -l <"$tmp/$mode.tsv") - 1)) packets, --tsv and --ext identical to tshark"
done
grep -q "17 IP fragments, 7 datagrams reassembled; dropped: 0 with overlapping" "$tmp/frag.err" ||
    fail "fragment counts: $(cat "$tmp/frag.err")"
[ "$("$bin" trace "$tmp/frag.pcap" 2>/dev/null | grep -c '\[reassembled from IP fragments\]')" = 7 ] ||
    fail "the text output does not mark the 7 reassembled segments"

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
"$gen" hostile "$tmp/h.pcap" || fail "gentcp hostile failed"
"$bin" trace --tsv --stats "$tmp/h.pcap" >"$tmp/h.tsv" 2>"$tmp/h.err" || fail "hostile: $(cat "$tmp/h.err")"
grep -q "10035 IP fragments, 7 datagrams reassembled; dropped: 4 with overlapping fragments, 2 over 65535 bytes, 0 timed out, [0-9]* evicted (memory bound), 4 malformed fragments" "$tmp/h.err" ||
    fail "hostile counts: $(cat "$tmp/h.err")"
cut -f2- "$tmp/frag.tsv" >"$tmp/f.rows"
cut -f2- "$tmp/h.tsv" >"$tmp/h.rows"
diff "$tmp/f.rows" "$tmp/h.rows" >"$tmp/d" || fail "hostile fragments changed the analysis: $(cat "$tmp/d")"
rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB/\1/p' "$tmp/h.err")
[ -n "$rss" ] && [ "$rss" -lt 65536 ] || fail "hostile: peak RSS $rss KiB"
echo "generated_captures_test: hostile fragments dropped and counted, peak RSS $rss KiB: ok"
