#!/usr/bin/env bash
# Installs what synack needs to build and test, when it is missing. As root on
# Debian it runs apt-get; otherwise it prints the line to run and fails.
set -euo pipefail

pkgs=(cmake make gcc clang pkg-config libcmocka-dev libpcap-dev libsodium-dev valgrind tshark tcpdump iproute2
      curl socat netcat-openbsd nftables iputils-ping) # the interop tests
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get install -y ${missing[*]}"
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "deps: missing ${missing[*]}; run as root: $line" >&2
    exit 1
fi
