#!/usr/bin/env bash
# curl against a small HTTP responder on synack (`synack listen --http`), one
# request and then 50 concurrent ones; and 50 concurrent connections from a
# synack client (`synack connect --parallel 50`) to a kernel echo server
# (socat fork). Bodies are checked by SHA-256, every connection must close
# without RST, and the side that closed first must hold it in TIME_WAIT
# (synack, which closes after its response, and after sending its data).
# With no loss and with 1 % and 5 % on the kernel side.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
interop_require
LIMIT=180
N=${INTEROP_CONNS:-50}
fails=0

curl-one() {
    local loss=$1 ns="" s="" what="curl, one request, loss $1 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" 1048576
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" listen -v --http --max 1 --timeout $LIMIT --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" 8080
    wait_grep "$WORK/err" LISTEN 10 || return 1
    ip netns exec "$ns" curl -sS --max-time $LIMIT -o "$WORK/out" "http://$S:8080/" || return 1
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    expect_same "$WORK/in" "$WORK/out" "$what" || return 1
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" 1 "$what" || return 1
    netns_cleanup
}

curl-many() {
    local loss=$1 ns="" s="" what="curl, $N concurrent, loss $1 %" i pids=()
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" 65536
    synack_bg s "$ns" "$WORK/in" /dev/null "$WORK/err" listen -v --http --max "$N" --timeout $LIMIT --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" 8080
    wait_grep "$WORK/err" LISTEN 10 || return 1
    for i in $(seq 1 "$N"); do
        ip netns exec "$ns" curl -sS --max-time $LIMIT -o "$WORK/out.$i" "http://$S:8080/$i" &
        pids+=("$!")
    done
    local bad=0
    for i in "${pids[@]}"; do wait "$i" || bad=$((bad + 1)); done
    [ "$bad" -eq 0 ] || { echo "FAIL: $what: $bad curl(s) failed" >&2; return 1; }
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    for i in $(seq 1 "$N"); do
        expect_same "$WORK/in" "$WORK/out.$i" "$what (#$i)" || return 1
    done
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" "$N" "$what" || return 1
    netns_cleanup
}

parallel-client() {
    local loss=$1 ns="" k="" s="" what="synack client, $N concurrent to a kernel echo server, loss $1 %"
    interop_ns ns tun 1500 "$loss" || return 1
    make_file "$WORK/in" 65536
    kernel_bg k "$ns" /dev/null /dev/null socat -t 120 TCP-LISTEN:5005,bind=$K,reuseaddr,fork,backlog=128 EXEC:cat
    netns_wait_listen "$ns" 5005 || return 1
    synack_bg s "$ns" "$WORK/in" "$WORK/out" "$WORK/err" connect -v --parallel "$N" --timeout $LIMIT --tun sk0 \
        --addr "$S/24" --pcap "$WORK/cap.pcap" "$K" 5005
    wait_pid "$s" $LIMIT "$what: synack" || { tail -3 "$WORK/err" >&2; return 1; }
    local want good
    want="sent 65536 received 65536 sha256 $(sha "$WORK/in")"
    good=$(grep -c "$want" "$WORK/out" || true)
    [ "$good" -eq "$N" ] || { echo "FAIL: $what: $good of $N echoes intact" >&2; head -3 "$WORK/out" >&2; return 1; }
    expect_no_rst "$WORK/cap.pcap" "$what" "$WORK/err" || return 1
    expect_synack_time_wait "$WORK/err" "$N" "$what" || return 1
    netns_cleanup
}

for loss in ${INTEROP_LOSS:-0 1 5}; do
    for c in ${INTEROP_CASES:-curl-one curl-many parallel-client}; do
        if reason=$(lossy_skip "$loss" "$c"); then
            echo "SKIP: $c, loss $loss %: $reason"
            continue
        fi
        t0=$(now_ms)
        if "$c" "$loss"; then
            echo "ok: $c, loss $loss %: $(($(now_ms) - t0)) ms"
        else
            echo "FAIL: $c, loss $loss %: after $(($(now_ms) - t0)) ms"
            fails=$((fails + 1))
            keep_artifacts "$c-$loss"
            netns_cleanup
        fi
    done
done
exit $((fails > 0))
