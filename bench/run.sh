#!/usr/bin/env bash
# Runs the benchmark suite against a release build and writes docs/BENCHMARKS.md.
# Usage: bench/run.sh
# About 15 minutes on a 2-core machine. It installs the peers when missing: Debian's
# etcd-server and nsd (apt-get, as root or through sudo), rnacos (cargo install), and
# matplotlib for the plots (pip, in target/bench-venv).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p proconsul-cli -p proconsul-bench
cargo build --release --locked -p proconsul-dns --example profile_answers
bench=target/release/proconsul-bench
out=docs/BENCHMARKS.md
figures=target/bench-figures.csv

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
command -v etcd >/dev/null || as_root apt-get install -y etcd-server >&2
rnacos="$(command -v rnacos || echo "$HOME/.cargo/bin/rnacos")"
[ -x "$rnacos" ] || cargo install --locked rnacos >&2
if [ ! -x target/bench-venv/bin/python ]; then
    python3 -m venv target/bench-venv >&2
    target/bench-venv/bin/pip install --quiet matplotlib >&2
fi
rm -f "$figures"
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
cores="$(nproc)"
memory="$(free -g | awk '/Mem:/ {print $2}') GiB"
{
    echo "# Benchmarks"
    echo
    echo "Measured by \`bench/run.sh\` on $(date -u +%Y-%m-%d): $cpu, $cores cores, $memory, $(uname -sr)."
    echo "The load generator runs on the same machine as the agent. Tests never assert timings; speed and"
    echo "memory are measured only here."
    echo
    echo "## Health checks per second"
    echo
    echo "One \`proconsul agent -dev\` (release build) runs N checks, each with a 1 s interval (Consul's"
    echo "minimum), against targets in the benchmark process: an axum HTTP server answering 200, or a TCP"
    echo "listener. Probes are counted at the target for 10 s after a 3 s settling period. \"Of schedule\" is"
    echo "the achieved rate over the N per second the schedule asks for; CPU is the agent's user+system time"
    echo "over wall time (200% is both cores). Command: \`$bench checks --kind K --checks N\`."
    echo
    echo "| Kind | Checks | Probes/s | Of schedule | Agent CPU | Agent RSS (MiB) | Registration (s) |"
    echo "|---|---|---|---|---|---|---|"
    for kind in http tcp; do
        for checks in 1000 10000 20000; do
            "$bench" --binary target/release/proconsul checks --kind "$kind" --checks "$checks"
        done
    done
    echo
    echo "No peer is measured for checks: Consul is not installable from this machine's registries. The"
    echo "seed document's figure for Consul is about 5,000 checks/s."
    echo
    bench/dns.sh target/release/proconsul
    echo
    echo "## Locks and sessions"
    echo
    echo "One \`proconsul agent -dev\` (release build); the load generator runs on the same machine."
    echo "Lock round trips: each client has its own session and key and loops \`PUT ?acquire\` then"
    echo "\`PUT ?release\` (two Raft writes) for 5 s. Renewals: 1,000 sessions with a 60 s TTL are created,"
    echo "then renewed round-robin by the clients for 5 s. CPU is the agent's over wall time (200% is both"
    echo "cores); RSS is read at the end of each run. Command: \`$bench locks --clients C\`."
    echo
    echo "| Workload | Clients | Per second | Agent CPU | Agent RSS (MiB) |"
    echo "|---|---|---|---|---|"
    for clients in 1 16; do
        "$bench" --binary target/release/proconsul locks --clients "$clients"
    done
    echo
    echo "No peer is measured for locks yet (etcd's lease and lock API would be the one; not built)."
    echo
    bench/cluster.sh target/release/proconsul "$bench"
    echo
    echo "## Backups at scale"
    echo
    echo "One \`proconsul agent -dev\` (release build) is loaded through \`/v1/txn\` (64 operations per"
    echo "transaction, 16 in flight) with 100,000 service instances on 1,000 nodes and 100,000 keys; then"
    echo "\`GET /v1/snapshot\` is timed (the same serialization Raft snapshots use) and the backup is"
    echo "restored with \`PUT /v1/snapshot\` (decoded, checked, applied through Raft). RSS is read after"
    echo "loading. Command: \`$bench snapshot-size\`."
    echo
    echo "| Data | Backup (MiB) | Load (s) | Save (s) | Restore (s) | Agent RSS (MiB) |"
    echo "|---|---|---|---|---|---|"
    "$bench" --binary target/release/proconsul snapshot-size
    echo
    GOSSIP_QUICK=1 bench/gossip_sim.sh "$bench"
    echo
    "$bench" --binary target/release/proconsul registry --rnacos "$rnacos" --etcd etcd --csv "$figures"
    "$bench" --binary target/release/proconsul fanout --csv "$figures"
    "$bench" --binary target/release/proconsul footprint --csv "$figures"
    cat bench/targets.md
    cat bench/ab.md
    echo "## Plots"
    echo
    for chart in registrations reads kv fanout-memory fanout-p99 memory; do
        echo "![${chart}](bench/${chart}.png)"
    done
} > "$out.tmp"
target/bench-venv/bin/python bench/plot.py "$figures" docs/bench
mv "$out.tmp" "$out"
cat "$out"
