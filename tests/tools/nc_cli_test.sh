#!/usr/bin/env bash
# `synack connect` / `synack listen` command lines: every mistake gets one
# line naming it and exit status 2; --help prints the usage and exits 0.
# (Runs without root: no device is ever opened.)
set -u
bin=${SYNACK_BIN:?}
fails=0
# expect STATUS 'TEXT' ARGS...: the command exits STATUS with one line of
# stderr containing TEXT
expect() {
    local want=$1 text=$2 out rc=0
    shift 2
    out=$("$bin" "$@" 2>&1 </dev/null >/dev/null) || rc=$?
    if [ "$rc" -ne "$want" ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || ! grep -qF -- "$text" <<<"$out"; then
        echo "FAIL: synack $*: exit $rc (want $want), said: $out"
        fails=$((fails + 1))
    fi
}
expect 2 "want two arguments, ADDR PORT" connect
expect 2 "want one argument, PORT" listen
expect 2 "want two arguments" connect --tun t0 --addr 198.18.0.2/24 198.18.0.1
expect 2 "no device" connect 198.18.0.1 80
expect 2 "--addr A.B.C.D/LEN is needed" connect --tun t0 198.18.0.1 80
expect 2 "exclude each other" listen --tun a --tap b --addr 198.18.0.2/24 80
expect 2 "--mtu wants 68..65535" listen --tun a --addr 198.18.0.2/24 --mtu 70000 80
expect 2 "--parallel wants" connect --parallel 5000 --tun a --addr 198.18.0.2/24 198.18.0.1 80
expect 2 "--http is for listen" connect --http --tun a --addr 198.18.0.2/24 198.18.0.1 80
expect 2 "--parallel is for connect" listen --parallel 2 --tun a --addr 198.18.0.2/24 80
expect 2 "bad option '--bogus'" listen --bogus 80
expect 2 "--mtu wants 68..65535" listen --tun a --addr 198.18.0.2/24 --mtu 15OO 80
expect 2 "--parallel wants" connect --parallel x --tun a --addr 198.18.0.2/24 198.18.0.1 80
expect 2 "--max wants" listen --http --max -1 --tun a --addr 198.18.0.2/24 80
expect 2 "--timeout wants" listen --timeout soon --tun a --addr 198.18.0.2/24 80
expect 2 "bad port '0'" listen --tun a --addr 198.18.0.2/24 0
expect 2 "bad port '80x'" listen --tun a --addr 198.18.0.2/24 80x
expect 2 "bad port '70000'" connect --tun a --addr 198.18.0.2/24 198.18.0.1 70000
expect 2 "bad address 'example'" connect --tun a --addr 198.18.0.2/24 example 80
expect 2 "bad --addr" listen --tun a --addr 198.18.0.2/40 80
rc=0
"$bin" listen --help >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: listen --help exited $rc"; fails=$((fails + 1)); }
[ "$fails" -eq 0 ] && echo "nc_cli_test: ok"
exit $((fails > 0))
