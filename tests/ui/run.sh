#!/usr/bin/env bash
# Browser tests of the web UI: Debian's Chromium (never a downloaded browser) driven by
# playwright-core pinned to the version made for that Chromium. Starts its own
# `proconsul agent -dev` processes on free loopback ports. Screenshots of the main pages
# go to target/ui-screenshots/ (PROCONSUL_UI_SCREENSHOTS=docs/ui to refresh the README's).
set -euo pipefail
cd "$(dirname "$0")"
export PROCONSUL_BIN="${PROCONSUL_BIN:-$PWD/../../target/debug/proconsul}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -n "${PROCONSUL_UI_SCREENSHOTS:-}" ]; then
    PROCONSUL_UI_SCREENSHOTS="$(cd "$(dirname "$PROCONSUL_UI_SCREENSHOTS")" && pwd)/$(basename "$PROCONSUL_UI_SCREENSHOTS")"
    export PROCONSUL_UI_SCREENSHOTS
fi
"$CHROMIUM" --version 2>/dev/null || true
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 --test-timeout=120000 flows.test.mjs
