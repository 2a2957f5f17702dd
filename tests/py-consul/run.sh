#!/usr/bin/env bash
# Runs py-consul 1.8.0's own test suite against `proconsul agent -dev`.
#
# py-consul's sdist ships its tests; its root conftest.py starts Consul in Docker, so we
# replace that file with ours (tests/py-consul/conftest.py), which starts a proconsul
# process per test with the same fixtures. Tests outside this build's scope, or known to
# fail, are listed with their reason in known-failures.txt and deselected.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/py-consul"
venv="$work/venv"
version="1.8.0"

export PROCONSUL_BIN="${PROCONSUL_BIN:-$root/target/debug/proconsul}"
if [ ! -x "$PROCONSUL_BIN" ]; then
    echo "proconsul binary not found at $PROCONSUL_BIN: run 'cargo build --bin proconsul' first" >&2
    exit 1
fi

mkdir -p "$work"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "py-consul==$version" "pytest==8.3.5" "pytest-asyncio==0.26.0" "requests>=2.31" \
    "aiohttp>=3.9" "pyOpenSSL>=24"

suite="$work/suite-$version"
if [ ! -d "$suite/tests" ]; then
    download="$work/download"
    rm -rf "$download" && mkdir -p "$download"
    "$venv/bin/python" -m pip download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: "py-consul==$version" -d "$download"
    rm -rf "$suite.tmp" && mkdir -p "$suite.tmp"
    tar -xzf "$download"/py_consul-"$version".tar.gz -C "$suite.tmp" --strip-components=1
    rm -rf "$suite" && mv "$suite.tmp" "$suite"
fi
# Our fixtures replace upstream's Docker-based root conftest. The package itself comes
# from the venv, not the sdist's source tree, so the tests exercise the released client.
cp "$here/conftest.py" "$suite/conftest.py"
rm -rf "$suite/consul"

deselect=()
while IFS= read -r line; do
    id="${line%%#*}"
    id="$(echo "$id" | xargs)"
    [ -n "$id" ] && deselect+=("--deselect" "$id")
done < "$here/known-failures.txt"

cd "$suite"
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q -o addopts="" \
    tests/api/test_kv.py tests/api/test_catalog.py tests/api/test_health.py \
    tests/api/test_status.py tests/api/test_agent.py \
    "${deselect[@]}" "$@"
