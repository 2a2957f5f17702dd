#!/usr/bin/env bash
# Runs py-consul 1.8.0's own test suite against `proconsul agent -dev`.
#
#   tests/py-consul/run.sh [extra pytest args]      e.g.  -k test_kv  or  -x -vv
#
# Needs only Python 3 (3.11 tested) with pip; installs everything else under target/py-consul/:
#   venv/          a virtualenv with py-consul and pytest (pinned in venv.sh, which makes it)
#   download/      py-consul's sdist from PyPI (sha256-checked)
#   suite-1.8.0/   the unpacked sdist: its tests/, with our conftest.py as the root conftest
#   logs/          the agent log of each failing test
#
# py-consul's sdist ships its tests; its root conftest.py starts Consul in Docker, so we
# replace that one file with ours (tests/py-consul/conftest.py), which starts a proconsul
# process per test with the same fixtures. No upstream test file is patched.
# The run covers tests/api/test_{kv,catalog,health,status,agent,session,txn,event,acl,
# acl_templated_policy,snapshot,connect,coordinates}.py (the ACL ones against an ACL-enabled agent); tests that are out of
# scope or known to fail are listed with their reason in known-failures.txt and deselected
# (exactly: see conftest.py for why not pytest's prefix-matching --deselect).
# Exit status: pytest's (non-zero if any selected test fails).
#
# Environment: PROCONSUL_BIN (default target/debug/proconsul), PYTHON (default python3),
# PROCONSUL_READY_TIMEOUT (seconds an agent gets to become ready, default 20).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/py-consul"
version="1.8.0"
sdist="py_consul-$version.tar.gz"
sdist_sha256="ed9ab0adb335d33ea84f7622f372411f8e288bb09aee5e7632264d28d285a52c"

export PROCONSUL_BIN="${PROCONSUL_BIN:-$root/target/debug/proconsul}"
if [ ! -x "$PROCONSUL_BIN" ]; then
    echo "run.sh: proconsul binary not found at $PROCONSUL_BIN" >&2
    echo "run.sh: build it with 'cargo build --bin proconsul', or set PROCONSUL_BIN" >&2
    exit 1
fi
mkdir -p "$work"

# --- virtualenv -------------------------------------------------------------------------
# venv.sh makes it (or brings it up to date) and prints its python.
python="$(bash "$here/venv.sh")"

# --- the sdist's tests ------------------------------------------------------------------
suite="$work/suite-$version"
if [ ! -f "$suite/.unpacked" ]; then
    download="$work/download"
    if ! echo "$sdist_sha256  $download/$sdist" | sha256sum -c --status 2>/dev/null; then
        rm -rf "$download" && mkdir -p "$download"
        "$python" -m pip download --quiet --disable-pip-version-check --no-deps \
            --no-binary :all: "py-consul==$version" -d "$download"
        echo "$sdist_sha256  $download/$sdist" | sha256sum -c --quiet
    fi
    rm -rf "$suite" "$suite.tmp" && mkdir -p "$suite.tmp"
    tar -xzf "$download/$sdist" -C "$suite.tmp" --strip-components=1
    # The tests must exercise the released client installed in the venv, not the
    # sdist's source tree (which would shadow it, being on sys.path via rootdir).
    rm -rf "$suite.tmp/consul"
    touch "$suite.tmp/.unpacked"
    mv "$suite.tmp" "$suite"
fi
# Our fixtures replace upstream's Docker-based root conftest.py. (Below, --known-failures=FILE
# must stay one word: pytest scans separate argument words for directories whose conftest.py
# to load, and would load tests/py-consul/conftest.py a second time.)
cp "$here/conftest.py" "$suite/conftest.py"
rm -rf "$work/logs"

cd "$suite"
set +e
PROCONSUL_LOG_DIR="$work/logs" "$python" -m pytest -p no:cacheprovider -q -rfEs \
    -o addopts="" \
    --known-failures="$here/known-failures.txt" \
    tests/api/test_kv.py tests/api/test_catalog.py tests/api/test_health.py \
    tests/api/test_status.py tests/api/test_agent.py tests/api/test_session.py tests/api/test_txn.py \
    tests/api/test_event.py tests/api/test_acl.py tests/api/test_acl_templated_policy.py \
    tests/api/test_snapshot.py tests/api/test_connect.py tests/api/test_coordinates.py \
    tests/api/test_operator.py \
    "$@"
status=$?
set -e
if [ "$status" -ne 0 ] && [ -d "$work/logs" ]; then
    echo "run.sh: agent logs of failing tests: $work/logs/" >&2
fi
exit "$status"
