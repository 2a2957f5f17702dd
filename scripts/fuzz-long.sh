#!/usr/bin/env bash
# The long fuzzing run: every cargo-fuzz target of every parser that takes outside input,
# for MINUTES each (default 10), then the black-box wire fuzzing of a real server with a
# large number of requests. CI runs the same properties bounded (proptests and
# tests/tests/fuzz_wire.rs with 600 requests); this is the run for minutes or hours.
#
#   scripts/fuzz-long.sh [MINUTES] [TARGET...]      e.g. scripts/fuzz-long.sh 1 config:files
#
# Targets (crate:target): dns:packet dns:query_name acl:rules api:bodies api:durations
# filter:expressions config:files state:snapshots state:log_entries, and wire (the HTTP
# and server-RPC fuzzing of tests/tests/fuzz_wire.rs).
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`, installed here if missing) and a toolchain
# that takes sanitizer flags: the nightly one if installed, else stable with
# RUSTC_BOOTSTRAP=1. A crash leaves its input in crates/<crate>/fuzz/artifacts/<target>/;
# reproduce it with `cargo fuzz run <target> <that file>` in that directory. The wire
# fuzzing prints its seed; rerun it with PROCONSUL_FUZZ_SEED=<seed>.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-10}"
shift || true
all=(dns:packet dns:query_name acl:rules api:bodies api:durations filter:expressions
    config:files state:snapshots state:log_entries wire)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install --locked cargo-fuzz
fi
toolchain=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi

failed=()
for target in "${targets[@]}"; do
    if [ "$target" = wire ]; then
        echo "== wire: HTTP and server-RPC fuzzing of a real server"
        cargo build --bin proconsul
        cases=$((minutes * 60 * 200))
        seed="${PROCONSUL_FUZZ_SEED:-$(date +%s)}"
        echo "   seed $seed, $cases requests per test"
        if ! PROCONSUL_FUZZ_SEED="$seed" PROCONSUL_FUZZ_CASES="$cases" \
            cargo test -p proconsul-tests --test fuzz_wire -- --nocapture; then
            failed+=("wire (PROCONSUL_FUZZ_SEED=$seed)")
        fi
        continue
    fi
    crate="${target%%:*}"
    name="${target#*:}"
    dir="crates/$crate/fuzz"
    [ -d "$dir" ] || { echo "unknown target $target" >&2; exit 2; }
    echo "== $crate:$name for $minutes min"
    if ! (cd "$dir" && cargo "${toolchain[@]}" fuzz run "$name" -- \
        -max_total_time=$((minutes * 60)) -rss_limit_mb=2048 -print_final_stats=1); then
        failed+=("$crate:$name (input in $dir/artifacts/$name/)")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "all ${#targets[@]} targets ran clean for $minutes min each"
