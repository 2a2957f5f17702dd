#!/usr/bin/env bash
# Runs the tests of HashiCorp's Go client, github.com/hashicorp/consul/api v1.34.5 (and its
# watch package), against Proconsul: their harness (sdk/testutil) starts `consul agent
# -config-file X` per test, and finds `consul` on PATH, which here is the proconsul binary.
#
#   tests/go-consul-api/run.sh                    the whole run, compared with known-failures.txt
#   tests/go-consul-api/run.sh -run 'TestAPI_KV'  extra `go test` flags (then unlisted tests that
#                                                 did not run are not an error)
#
# Needs Go 1.26 and the Go module proxy (or a module cache that has the modules). The
# client's go.mod asks for go 1.26.7: an older 1.26 fetches that toolchain (GOTOOLCHAIN=auto,
# Go's default; set GOTOOLCHAIN=local to forbid it). Works under target/go-consul-api/:
#   module/   a scratch module (go.mod.template) that requires the client; `go get -t`
#             resolves the tests' dependencies into its go.sum
#   bin/      `consul` -> the proconsul binary, first on PATH
#   results.json   `go test -json` events; go-test.log the tests' output
# Exit status: non-zero when a test that is not in known-failures.txt fails, when a listed
# test passes (remove it from the list; reasons starting with "flaky:" are exempt), or
# when the list names a test that does not exist.
#
# Environment: PROCONSUL_BIN (default target/debug/proconsul), GO (default go),
# GO_CONSUL_API_PARALLEL (tests at once within a package, default 4),
# GO_CONSUL_API_TIMEOUT (per package, default 20m).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$root/target/go-consul-api"
go="${GO:-go}"
version="v1.34.5"
packages=(github.com/hashicorp/consul/api github.com/hashicorp/consul/api/watch)
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" GOFLAGS=-mod=mod

export PROCONSUL_BIN="${PROCONSUL_BIN:-$root/target/debug/proconsul}"
if [ ! -x "$PROCONSUL_BIN" ]; then
    echo "run.sh: proconsul binary not found at $PROCONSUL_BIN" >&2
    echo "run.sh: build it with 'cargo build --bin proconsul', or set PROCONSUL_BIN" >&2
    exit 1
fi
if ! command -v "$go" >/dev/null; then
    echo "run.sh: Go not found ('$go'); install Go 1.26 (https://go.dev/dl/) or set GO" >&2
    exit 1
fi
mkdir -p "$work/module" "$work/bin"

# --- the scratch module -----------------------------------------------------------------
stamp="$work/module/.resolved"
if [ "$(cat "$stamp" 2>/dev/null)" != "$(cat "$here/go.mod.template")" ]; then
    rm -f "$work/module/go.mod" "$work/module/go.sum"
    cp "$here/go.mod.template" "$work/module/go.mod"
    (cd "$work/module" &&
        "$go" get -t "github.com/hashicorp/consul/api@$version" \
            "github.com/hashicorp/consul/api/watch@$version" >/dev/null)
    cp "$here/go.mod.template" "$stamp"
fi

# --- `consul` on PATH is proconsul --------------------------------------------------------
ln -sf "$PROCONSUL_BIN" "$work/bin/consul"
export PATH="$work/bin:$PATH"

# --- the run -------------------------------------------------------------------------------
# A test that panics ends its package's test binary, and with it every test still running
# or waiting (most call t.Parallel). So each package runs in rounds: the first runs all of
# its tests, each later one (`-run '^(...)$'`) only those that have no result yet, until
# every test has one or a round brings nothing new.
results="$work/results.json"
: >"$results"
# The harness makes each agent's directory under TMPDIR; a private one lets us find the
# agents a panicking test binary left running (nothing stops them then) and stop them.
export TMPDIR="$work/tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
stop_leftover_agents() {
    local pid
    for pid in $(pgrep -f -- "-config-file $TMPDIR/" || true); do
        kill -INT "$pid" 2>/dev/null || true
    done
}
trap stop_leftover_agents EXIT
# Tests listed with a reason starting "hangs:" wait forever against Proconsul (no timeout
# of their own), so they are not run at all (-skip); they count as known failures.
hanging=$(python3 "$here/report.py" --hanging "$here/known-failures.txt")
skip=()
[ -z "$hanging" ] || skip=(-skip "^($(echo "$hanging" | paste -sd'|'))\$")
: >"$work/go-test.stderr"
start=$(date +%s)
go_test() {
    (cd "$work/module" &&
        "$go" test -json -count=1 -p 1 -parallel "${GO_CONSUL_API_PARALLEL:-4}" \
            -timeout "${GO_CONSUL_API_TIMEOUT:-20m}" "${skip[@]}" "$@") >>"$results" 2>>"$work/go-test.stderr" || true
    stop_leftover_agents
}
if [ "$#" -gt 0 ]; then
    go_test "$@" "${packages[@]}"
else
    for package in "${packages[@]}"; do
        all=$(cd "$work/module" && "$go" test -list '.*' "$package" | grep -E '^(Test|Example|Fuzz)' | grep -vxF -f <(echo "$hanging") | sort)
        remaining="$all"
        for round in 1 2 3 4 5 6 7 8; do
            [ -n "$remaining" ] || break
            if [ "$round" -eq 1 ]; then
                go_test "$package"
            else
                echo "go-consul-api: $package round $round: $(echo "$remaining" | wc -l) tests left without a result (a test panicked)"
                go_test -run "^($(echo "$remaining" | paste -sd'|'))\$" "$package"
            fi
            finished=$(python3 "$here/report.py" --finished "$results" "$package")
            left=$(comm -23 <(echo "$all") <(echo "$finished" | sort))
            [ "$left" != "$remaining" ] || break
            remaining="$left"
        done
    done
fi
elapsed=$(($(date +%s) - start))
echo "go-consul-api: go test ran for ${elapsed}s (events: $results)"
partial=0
[ "$#" -gt 0 ] && partial=1
python3 "$here/report.py" "$results" "$here/known-failures.txt" "$partial" "$work/go-test.log"
