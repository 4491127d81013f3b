#!/usr/bin/env bash
# IP fragment reassembly end to end: TCP segments sent in IPv4 fragments and
# IPv6 Fragment headers (in order, reversed, middle first, a tiny first
# fragment of 8 bytes, a lost fragment then the segment retransmitted) read
# exactly as tshark reads them; hostile fragments (overlaps, past 65535
# bytes, odd sizes, 10,000 incomplete datagrams) are dropped, counted, and
# change nothing else.
set -u
bin=${SYNACK_BIN:?}
gen=${SYNACK_BUILD:?}/trace-genfrag
[ -x "$gen" ] || { echo "fragments_test: $gen not built"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "fragments_test: $*"; exit 1; }

"$gen" "$tmp/f.pcap" || fail "genfrag failed"
"$gen" --hostile "$tmp/h.pcap" || fail "genfrag --hostile failed"

"$bin" trace --tsv "$tmp/f.pcap" >"$tmp/f.tsv" 2>"$tmp/f.err" || fail "trace --tsv: $(cat "$tmp/f.err")"
"$bin" trace --ext "$tmp/f.pcap" >"$tmp/f.ext" 2>/dev/null || fail "trace --ext failed"
grep -q "17 IP fragments, 7 datagrams reassembled; dropped: 0 with overlapping" "$tmp/f.err" || fail "counts: $(cat "$tmp/f.err")"
[ "$(($(wc -l <"$tmp/f.tsv") - 1))" = 27 ] || fail "expected 27 TCP packets: $(cat "$tmp/f.tsv")"

if command -v tshark >/dev/null; then
    for kind in tsv ext; do
        fields=$(head -1 "$tmp/f.$kind" | tr '\t' '\n' | sed 's/^/-e /' | tr '\n' ' ')
        # shellcheck disable=SC2086
        tshark -r "$tmp/f.pcap" -Y tcp -T fields -E header=y -E separator=/t $fields >"$tmp/ws.$kind" 2>/dev/null
        diff "$tmp/ws.$kind" "$tmp/f.$kind" >"$tmp/d" || fail "--$kind differs from tshark: $(cat "$tmp/d")"
    done
    echo "fragments_test: 27 packets from 7 reassembled datagrams, --tsv and --ext identical to tshark"
else
    echo "fragments_test: tshark not installed: comparison skipped"
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
"$bin" trace --tsv --stats "$tmp/h.pcap" >"$tmp/h.tsv" 2>"$tmp/h.err" || fail "hostile: $(cat "$tmp/h.err")"
grep -q "10035 IP fragments, 7 datagrams reassembled; dropped: 4 with overlapping fragments, 2 over 65535 bytes, 0 timed out, [0-9]* evicted (memory bound), 4 malformed fragments" "$tmp/h.err" ||
    fail "hostile counts: $(cat "$tmp/h.err")"
# The two real connections read exactly as without the hostile fragments.
cut -f2- "$tmp/f.tsv" >"$tmp/f.rows"
cut -f2- "$tmp/h.tsv" >"$tmp/h.rows"
diff "$tmp/f.rows" "$tmp/h.rows" >"$tmp/d" || fail "hostile fragments changed the analysis: $(cat "$tmp/d")"
rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB/\1/p' "$tmp/h.err")
[ -n "$rss" ] && [ "$rss" -lt 65536 ] || fail "hostile: peak RSS $rss KiB"
echo "fragments_test: hostile fragments dropped and counted, peak RSS $rss KiB: ok"
