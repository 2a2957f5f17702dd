#!/usr/bin/env bash
# The long randomized fault run (issue 21), as far as it exists: the scenarios of
# tests/tests/faults.rs (pauses, kill -9 of a minority, whole-cluster kills, network
# partitions; registers, locks, watches, durability) again and again with random seeds,
# for MINUTES minutes (default 60). Stops at the first failure and prints the seed's
# replay command; the failing run's evidence (histories, timeline, logs) is kept where
# its message says.
#
# Not yet here: partitions mixed with other faults, 5 servers; clock and disk faults
# have tests of their own (tests/tests/clock_faults.rs, disk_faults.rs). See
# docs/RELIABILITY.md.
#
#   scripts/faults-long.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-60}"
cargo build --bin proconsul
cargo test -p proconsul-tests --test faults --no-run
end=$(($(date +%s) + minutes * 60))
runs=0
while [ "$(date +%s)" -lt "$end" ]; do
    seed=$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')
    runs=$((runs + 1))
    printf '\n==> run %d, seed %s\n' "$runs" "$seed"
    if ! PROCONSUL_FAULT_SEED="$seed" cargo test -q -p proconsul-tests --test faults -- --nocapture; then
        printf '\nFAILED with seed %s; replay the failing scenario with:\n' "$seed"
        printf '  PROCONSUL_FAULT_SEED=%s cargo test -p proconsul-tests --test faults <scenario> -- --nocapture\n' "$seed"
        exit 1
    fi
done
printf '\n%d runs of every scenario, no violation\n' "$runs"
