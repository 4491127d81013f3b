#!/usr/bin/env bash
# The 51 core packetdrill scripts (../shared/conformance/core.txt) against
# libsynack_packetdrill.so, in virtual time. Prints the pass/fail table;
# fails when a script listed as "pass" in expected.tsv no longer passes (or
# a script is missing from it). A new pass is reported so the file can be
# updated. Each script runs in packetdrill's three modes (ipv4, ipv6,
# ipv4-mapped-ipv6) unless it pins one or is IPv4-only (SKIP in ipv6); each
# mode's result is gated. errata.tsv's corrections are applied, and a
# corrected script's result as shipped is shown beside it.
set -u
build=${SYNACK_BUILD:?SYNACK_BUILD not set}
shared=${SYNACK_SHARED:?SYNACK_SHARED not set}
here=$(cd "$(dirname "$0")" && pwd)
conform=$build/synack-conform
if [ ! -x "$conform" ]; then
    echo "SKIP: $conform not built"
    exit 77
fi
so=$(find "$build" -name libsynack_packetdrill.so -print -quit)
if [ -z "$so" ]; then
    echo "SKIP: libsynack_packetdrill.so not built (src/posix)"
    exit 77
fi
if [ ! -f "$shared/conformance/core.txt" ]; then
    echo "SKIP: $shared/conformance/core.txt missing"
    exit 77
fi
"$conform" --so="$so" --list="$shared/conformance/core.txt" --expected="$here/expected.tsv" \
    --ip_version=ipv4,ipv6,ipv4-mapped-ipv6 --sysctls --errata="$here/errata.tsv" \
    --markdown="$build/conformance-core.md" | tee "$build/conformance-core.txt"
exit "${PIPESTATUS[0]}"
