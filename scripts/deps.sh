#!/bin/sh
# Installs the Debian packages libvox needs, only when one is missing.
# Called by the make targets; safe to run by hand. Needs root (or sudo) only
# when something must be installed.
set -eu

need="gcc make pkg-config libjansson-dev libcmocka-dev libuv1-dev"
# clang (with its libFuzzer runtime) is only needed by `make fuzz`.
[ "${1:-}" = "--fuzz" ] && need="$need clang libclang-rt-dev"

missing=""
for pkg in $need; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps.sh: missing packages:$missing (no apt-get here: install them by hand)" >&2
    exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "deps.sh: installing$missing" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
