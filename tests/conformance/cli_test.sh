#!/usr/bin/env bash
# synack-conform on bad input: one line saying why, a non-zero exit, no crash.
set -u
build=${SYNACK_BUILD:?}
conform=$build/synack-conform
[ -x "$conform" ] || { echo "SKIP: $conform not built"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # name, want-exit, pattern, command...
    local name=$1 want=$2 pat=$3
    shift 3
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -q -- "$pat" <<<"$out" || [ "$rc" -gt 2 ]; then
        echo "FAIL: $name: exit $rc (want $want): $out"
        fail=1
    else
        echo "ok: $name"
    fi
}
printf '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > Q 0:0(0)\n' > "$tmp/bad.pkt"
printf '0 close(3) = 0\n' > "$tmp/ok.pkt"
head -c 3000 /dev/urandom > "$tmp/noise.pkt"
expect "unknown option" 2 "unknown option '-x'" "$conform" -x "$tmp/ok.pkt"
expect "unknown long option" 2 "option '--bogus' unknown" "$conform" --bogus "$tmp/ok.pkt"
expect "unknown script option" 2 "option '--frob' unknown" "$conform" --frob=1 "$tmp/ok.pkt"
expect "missing file" 1 "cannot open" "$conform" --parse-only "$tmp/none.pkt"
expect "syntax error" 1 "bad.pkt:2: bad TCP flag 'Q'" "$conform" --parse-only "$tmp/bad.pkt"
expect "binary noise" 1 "noise.pkt" "$conform" --parse-only "$tmp/noise.pkt"
expect "missing library" 1 "cannot load" "$conform" --so="$tmp/nolib.so" "$tmp/ok.pkt"
expect "no arguments" 2 "usage" "$conform"
expect "missing errata file" 2 "errata: .*cannot open" "$conform" --errata="$tmp/none.tsv" "$tmp/ok.pkt"
# an erratum whose line no longer reads as shipped is an error, not a silent no-op
printf 'ok.pkt\t1\t0 close(4) = 0\t0 close(5) = 0\tsomewhere\n' > "$tmp/stale.tsv"
expect "stale erratum" 1 "ok.pkt:1: the erratum of row 1 does not apply" "$conform" --parse-only --errata="$tmp/stale.tsv" "$tmp/ok.pkt"
printf 'ok.pkt\t1\n' > "$tmp/short.tsv"
expect "malformed erratum" 1 "errata row 1: not 5 tab-separated fields" "$conform" --parse-only --errata="$tmp/short.tsv" "$tmp/ok.pkt"
printf 'ok.pkt\t1\t0 close(3) = 0\t0 close(3) = -1 EBADF (Bad file descriptor)\tsomewhere\n' > "$tmp/fix.tsv"
expect "an erratum applies" 0 "with the erratum of line 1 (somewhere)" "$conform" --parse-only --errata="$tmp/fix.tsv" "$tmp/ok.pkt"
exit $fail
