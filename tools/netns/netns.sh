# shellcheck shell=bash disable=SC2034
# Network namespaces for synack's tests, demo and benchmarks. Source this
# file; it defines functions and sets nothing else in motion.
#
# Everything happens inside namespaces created here with `ip netns add`, with
# addresses from 198.18.0.0/15 only (the benchmarking range of RFC 2544, which
# no real network routes), so a test can never reach or disturb the host's
# own networks. An EXIT trap kills the processes started here (by PID) and
# deletes the namespaces, on success and on failure alike. A caller that
# needs a trap of its own must call netns_cleanup from it.

# The TUN setup: the kernel's end of the device, and the address synack uses.
NETNS_KERNEL_ADDR=198.18.0.1
NETNS_STACK_ADDR=198.18.0.2
NETNS_TUN_PREFIX=24
# The veth setup between two namespaces (kernel to kernel).
NETNS_VETH_ADDR_A=198.18.1.1
NETNS_VETH_ADDR_B=198.18.1.2

NETNS_CREATED=()
NETNS_PIDS=()

# Exits 77 (the CTest "skipped" code) with the reason when this machine
# cannot run namespace tests.
netns_require() {
    local why=""
    if [ "$(id -u)" -ne 0 ]; then
        why="needs root (network namespaces and TUN devices)"
    elif [ ! -c /dev/net/tun ]; then
        why="/dev/net/tun is missing"
    elif ! command -v ip >/dev/null 2>&1; then
        why="ip(8) from iproute2 is missing"
    fi
    if [ -n "$why" ]; then
        echo "SKIP: ${0##*/}: $why" >&2
        exit 77
    fi
}

netns_cleanup() {
    local pid ns
    for pid in "${NETNS_PIDS[@]}"; do
        { kill "$pid" && wait "$pid"; } 2>/dev/null || true
    done
    NETNS_PIDS=()
    for ns in "${NETNS_CREATED[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    NETNS_CREATED=()
}

# netns_create VAR: creates a namespace with a name unique to this process,
# brings its loopback up, and stores the name in VAR.
netns_create() {
    # Locals carry a prefix so that printf -v cannot land on one of them
    # instead of the caller's variable.
    local _netns_name="synack-$$-${#NETNS_CREATED[@]}"
    if [ ${#NETNS_CREATED[@]} -eq 0 ]; then
        trap netns_cleanup EXIT
        trap 'exit 130' INT TERM
    fi
    ip netns add "$_netns_name" || return 1
    NETNS_CREATED+=("$_netns_name")
    ip -n "$_netns_name" link set lo up || return 1
    printf -v "$1" '%s' "$_netns_name"
}

# netns_tun_create NS DEV [MTU]: creates a persistent TUN device in NS with
# the kernel's address on it, up and ready before synack opens it by name,
# so the first segment synack sends is not lost to a device still down.
netns_tun_create() {
    local ns=$1 dev=$2 mtu=${3:-1500}
    ip -n "$ns" tuntap add dev "$dev" mode tun || return 1
    ip -n "$ns" link set "$dev" mtu "$mtu" || return 1
    netns_tun_configure "$ns" "$dev"
}

# netns_tun_configure NS DEV: puts the kernel's address on a TUN device that
# exists in NS (made by netns_tun_create, or by a synack process running
# inside NS) and brings it up.
netns_tun_configure() {
    local ns=$1 dev=$2
    ip -n "$ns" addr add "$NETNS_KERNEL_ADDR/$NETNS_TUN_PREFIX" dev "$dev" || return 1
    ip -n "$ns" link set "$dev" up
}

# netns_tun_await NS DEV [SECONDS]: waits for a synack process in NS to create
# DEV, then configures it.
netns_tun_await() {
    local ns=$1 dev=$2 tries=$(( ${3:-5} * 20 ))
    while ! ip -n "$ns" link show "$dev" >/dev/null 2>&1; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            echo "netns: $dev did not appear in $ns" >&2
            return 1
        fi
        sleep 0.05
    done
    netns_tun_configure "$ns" "$dev"
}

# netns_veth NS_A NS_B [MTU]: joins two namespaces with a veth pair named
# veth0 on both sides, NETNS_VETH_ADDR_A in NS_A and NETNS_VETH_ADDR_B in NS_B.
netns_veth() {
    local a=$1 b=$2 mtu=${3:-1500}
    ip link add veth0 netns "$a" mtu "$mtu" type veth peer name veth0 netns "$b" mtu "$mtu" || return 1
    ip -n "$a" addr add "$NETNS_VETH_ADDR_A/24" dev veth0 || return 1
    ip -n "$b" addr add "$NETNS_VETH_ADDR_B/24" dev veth0 || return 1
    ip -n "$a" link set veth0 up || return 1
    ip -n "$b" link set veth0 up
}

# netns_spawn VAR NS CMD...: runs CMD in NS in the background; the PID goes
# into VAR and into the list netns_cleanup kills.
netns_spawn() {
    local _netns_var=$1 _netns_ns=$2
    shift 2
    ip netns exec "$_netns_ns" "$@" &
    NETNS_PIDS+=("$!")
    printf -v "$_netns_var" '%s' "$!"
}

# netns_wait PID: waits for a process started by netns_spawn and returns its
# status; it is then no longer killed at cleanup.
netns_wait() {
    local pid=$1 rc=0 keep=() p
    wait "$pid" || rc=$?
    for p in "${NETNS_PIDS[@]}"; do
        [ "$p" = "$pid" ] || keep+=("$p")
    done
    NETNS_PIDS=("${keep[@]}")
    return "$rc"
}

# netns_wait_listen NS PORT [SECONDS]: waits until a TCP socket listens on
# PORT in NS, so a client is never started before its server.
netns_wait_listen() {
    local ns=$1 port=$2 tries=$(( ${3:-5} * 20 ))
    until ip netns exec "$ns" ss -Htln "sport = :$port" | grep -q .; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            echo "netns: nothing listens on port $port in $ns" >&2
            return 1
        fi
        sleep 0.05
    done
}
