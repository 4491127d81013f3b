# shellcheck shell=bash
# Shared by the interop tests: a namespace with a TUN (or TAP) device between
# synack and the Linux kernel, optional loss on the kernel's side, and the
# checks every case makes (SHA-256 of the bytes, no RST in the capture,
# TIME_WAIT on the side that closed first). Source it; it starts nothing.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../tools/netns/netns.sh
. "$root/tools/netns/netns.sh"
SYNACK=${SYNACK_BIN:-$root/build/synack}
K=$NETNS_KERNEL_ADDR  # the kernel, 198.18.0.1
S=$NETNS_STACK_ADDR   # synack, 198.18.0.2
WORK=""

interop_require() {
    netns_require
    local t
    for t in nc socat curl nft tcpdump sha256sum; do
        if ! command -v "$t" >/dev/null 2>&1; then
            echo "SKIP: ${0##*/}: $t is missing (scripts/deps.sh installs it)" >&2
            exit 77
        fi
    done
    [ -x "$SYNACK" ] || { echo "FAIL: ${0##*/}: no synack binary at $SYNACK" >&2; exit 1; }
    WORK=$(mktemp -d /tmp/synack-interop.XXXXXX)
}

# interop_ns VAR KIND MTU LOSS: a namespace with device sk0 of KIND (tun or
# tap), the kernel's address on it, and LOSS percent of the kernel's TCP
# packets dropped each way by nftables (numgen random).
interop_ns() {
    local _var=$1 kind=$2 mtu=$3 loss=$4 _ns=""
    netns_create _ns || return 1
    trap interop_cleanup EXIT # netns_create set its own
    ip -n "$_ns" tuntap add dev sk0 mode "$kind" || return 1
    ip -n "$_ns" link set sk0 mtu "$mtu" || return 1
    netns_tun_configure "$_ns" sk0 || return 1
    if [ "$loss" != 0 ]; then
        ip netns exec "$_ns" nft -f - <<EOF || return 1
table inet synack_loss {
    chain in { type filter hook input priority 0; meta l4proto tcp numgen random mod 100 < $loss drop; }
    chain out { type filter hook output priority 0; meta l4proto tcp numgen random mod 100 < $loss drop; }
}
EOF
    fi
    printf -v "$_var" '%s' "$_ns"
}

# synack_bg VAR NS STDIN STDOUT STDERR ARGS...: runs `synack ARGS` in NS in the
# background with its standard streams on these files.
synack_bg() {
    local _v=$1 ns=$2 in=$3 out=$4 err=$5
    shift 5
    # emptied here, not in the child: a check that reads them must never
    # see what the previous case left
    [ "$out" = /dev/null ] || : >"$out"
    [ "$err" = /dev/null ] || : >"$err"
    # shellcheck disable=SC2016
    netns_spawn "$_v" "$ns" bash -c 'i=$1 o=$2 e=$3; shift 3; exec "$@" <"$i" >"$o" 2>"$e" 7>&-' _ \
        "$in" "$out" "$err" "$SYNACK" "$@"
}

# kernel_bg VAR NS STDIN STDOUT CMD...: a kernel-side program, likewise.
kernel_bg() {
    local _v=$1 ns=$2 in=$3 out=$4
    shift 4
    [ "$out" = /dev/null ] || : >"$out"
    # shellcheck disable=SC2016
    netns_spawn "$_v" "$ns" bash -c 'i=$1 o=$2; shift 2; exec "$@" <"$i" >"$o" 7>&-' _ "$in" "$out" "$@"
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }

# expect_same FILE_A FILE_B WHAT
expect_same() {
    if [ "$(sha "$1")" != "$(sha "$2")" ]; then
        echo "FAIL: $3: SHA-256 differs ($(stat -c %s "$1") vs $(stat -c %s "$2") bytes)" >&2
        return 1
    fi
}

# expect_no_rst PCAP WHAT [ERRFILE]: no RST in synack's capture. Two cases
# are let through, and said; synack's log (ERRFILE, -v) must show that the
# connection had completed:
# - a kernel RST answering synack's ACK of a FIN the kernel retransmitted
#   while synack's first ACK of it was still in the kernel's backlog (the
#   kernel closed on that first ACK, then met the second): TIME_WAIT ->
#   CLOSED on the RST;
# - synack's RST answering a second ACK of its FIN after the first closed
#   the connection (LAST_ACK -> CLOSED): its own probe or retransmission of
#   the last segment drew that ACK once the kernel's first ACK was late
#   (a busy machine), and RFC 9293 §3.10.7.1 answers a segment for a
#   connection that is gone with a RST, as Linux does. The capture must hold
#   the kernel's ACK of that sequence number twice.
TW_RESET=0 # connections whose kernel TIME_WAIT synack's excused RST ended (RFC 1337: Linux lets it)
expect_no_rst() {
    local rsts line port seq bad=0
    TW_RESET=0
    rsts=$(tcpdump -S -nr "$1" 'tcp[tcpflags] & tcp-rst != 0' 2>/dev/null || true)
    [ -n "$rsts" ] || return 0
    while read -r line; do
        port=$(echo "$line" | sed -nE "s/.* $K\.[0-9]+ > $S\.([0-9]+):.*/\1/p")
        if [ -n "$port" ] && [ -n "${3:-}" ] && grep -q ":$port <-> .* TIME_WAIT -> CLOSED (rcv RST)" "$3"; then
            echo "note: $2: the kernel reset port $port after synack's TIME_WAIT re-ACK of its retransmitted FIN" >&2
            continue
        fi
        port=$(echo "$line" | sed -nE "s/.* $S\.[0-9]+ > $K\.([0-9]+): Flags \[R\], seq ([0-9]+),.*/\1/p")
        seq=$(echo "$line" | sed -nE "s/.* $S\.[0-9]+ > $K\.([0-9]+): Flags \[R\], seq ([0-9]+),.*/\2/p")
        if [ -n "$port" ] && [ -n "${3:-}" ] && grep -q "<-> $K:$port LAST_ACK -> CLOSED (rcv ACK of FIN)" "$3" &&
            [ "$(tcpdump -S -nr "$1" "src host $K and tcp src port $port" 2>/dev/null |
                grep -c "Flags \[\.\], ack $seq,")" -ge 2 ]; then
            echo "note: $2: synack reset port $port's second ACK of its FIN, after LAST_ACK -> CLOSED" >&2
            TW_RESET=$((TW_RESET + 1))
            continue
        fi
        bad=$((bad + 1))
        echo "FAIL: $2: RST: $line" >&2
    done <<<"$rsts"
    [ "$bad" -eq 0 ]
}

# expect_synack_time_wait ERRFILE N WHAT: synack (run with -v) reports N
# connections finished in TIME_WAIT: it closed first.
expect_synack_time_wait() {
    local n
    n=$(grep -c 'done: .*TIME_WAIT' "$1" || true)
    if [ "$n" -ne "$2" ]; then
        echo "FAIL: $3: $n of $2 connections ended in TIME_WAIT on synack's side" >&2
        tail -5 "$1" >&2
        return 1
    fi
}

# expect_kernel_time_wait NS N WHAT: the kernel holds N connections with
# synack in TIME_WAIT: it closed first (fewer by the TIME_WAITs an excused RST
# of synack ended, TW_RESET).
expect_kernel_time_wait() {
    local n
    n=$(ip netns exec "$1" ss -Htan state time-wait "dst $S" | wc -l)
    # a TIME_WAIT that synack's excused RST ended (expect_no_rst) is not missed
    if [ "$n" -gt "$2" ] || [ "$n" -lt $(($2 - TW_RESET)) ]; then
        echo "FAIL: $3: the kernel has $n connection(s) in TIME_WAIT, expected $2" >&2
        ip netns exec "$1" ss -tan >&2
        return 1
    fi
}

# wait_pid PID SECONDS WHAT: waits for a background process, failing (and
# killing it) when it runs longer than SECONDS.
wait_pid() {
    local pid=$1 limit=$2 what=$3 t=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$t" -ge $((limit * 10)) ]; then
            echo "FAIL: $what: still running after $limit s" >&2
            kill "$pid" 2>/dev/null || true
            netns_wait "$pid" || true
            return 1
        fi
        sleep 0.1
        t=$((t + 1))
    done
    netns_wait "$pid"
}

# make_file PATH BYTES
make_file() { head -c "$2" /dev/urandom >"$1"; }

# hold_open FIFO: fd 7 of this shell keeps FIFO open for writing, so a reader
# of it sees no end of file until release_hold (children close fd 7).
hold_open() { rm -f "$1"; mkfifo "$1"; exec 7<>"$1"; }
release_hold() { exec 7>&-; }

# wait_size FILE BYTES SECONDS: until FILE holds BYTES.
wait_size() {
    local t=0
    while [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -lt "$2" ]; do
        [ "$t" -lt $(($3 * 10)) ] || return 1
        sleep 0.1
        t=$((t + 1))
    done
}

# wait_grep FILE PATTERN SECONDS: until FILE has a line matching PATTERN.
wait_grep() {
    local t=0
    until grep -q "$2" "$1" 2>/dev/null; do
        [ "$t" -lt $(($3 * 20)) ] || return 1
        sleep 0.05
        t=$((t + 1))
    done
}

# keep_artifacts NAME: with INTEROP_KEEP=DIR, a failed case's files (capture,
# synack's stderr) are copied to DIR/NAME for a post-mortem.
keep_artifacts() {
    [ -n "${INTEROP_KEEP:-}" ] || return 0
    mkdir -p "$INTEROP_KEEP/$1"
    cp "$WORK"/*.pcap "$WORK"/err "$INTEROP_KEEP/$1/" 2>/dev/null || true
}

interop_cleanup() {
    netns_cleanup
    [ -z "$WORK" ] || rm -rf "$WORK"
}
trap interop_cleanup EXIT

# now_ms: for per-case timings.
now_ms() { date +%s%3N; }
