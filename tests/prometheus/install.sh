#!/usr/bin/env bash
# Unpacks a Prometheus server (Debian's `prometheus` package) under target/prometheus/
# and prints the binary's path (nothing else on stdout; progress goes to stderr).
#
#   PROCONSUL_PROMETHEUS_BIN="$(tests/prometheus/install.sh)"
#
# The .deb is fetched with `apt-get download` (no root, no dependencies: the server is one
# static Go binary; its web assets are not needed) and unpacked with dpkg-deb, never
# installed, so no service is started. Idempotent: a second run only prints the path.
# Needs apt's package lists; when they are empty (a fresh machine) they are updated,
# with sudo unless root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/target/prometheus"
bin="$dir/usr/bin/prometheus"
if [ ! -x "$bin" ]; then
    work="$(mktemp -d "$root/target/prometheus-download.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    if ! (cd "$work" && apt-get download prometheus >&2); then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -q >&2
        (cd "$work" && apt-get download prometheus >&2)
    fi
    mkdir -p "$work/unpacked"
    dpkg-deb -x "$work"/prometheus_*.deb "$work/unpacked"
    rm -rf "$dir"
    mv "$work/unpacked" "$dir"
fi
"$bin" --version >&2
echo "$bin"
