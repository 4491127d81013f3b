# Sourced by the conformance tests that run synack-conform against
# libsynack_packetdrill.so: finds both (exit 77, CTest's skip, when either is
# not built), makes $tmp (removed at exit), and gives check().
build=${SYNACK_BUILD:?SYNACK_BUILD not set}
conform=$build/synack-conform
so=$(find "$build" -name libsynack_packetdrill.so -print -quit)
if [ ! -x "$conform" ] || [ -z "$so" ]; then
    echo "SKIP: synack-conform or libsynack_packetdrill.so not built"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# check NAME WANT PATTERN ARGS...: synack-conform --so=$so ARGS must exit
# WANT with PATTERN (grep) in its output; sets fail=1 otherwise.
check() {
    local name=$1 want=$2 pat=$3
    shift 3
    out=$("$conform" --so="$so" "$@" 2>&1)
    rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -q -- "$pat" <<<"$out"; then
        echo "FAIL: $name: exit $rc (want $want), output:"
        echo "$out"
        fail=1
    else
        echo "ok: $name"
    fi
}
