#!/usr/bin/env bash
# Durable 3-server KV writes with mutual TLS between servers against the same cluster in
# plaintext, for Proconsul (`tls.internal_rpc` with verify_incoming, verify_outgoing and
# verify_server_hostname) and for etcd (--peer-cert-file ... --peer-client-cert-auth),
# in one run on one machine; certificates from `proconsul tls`. Clients speak plain HTTP
# to the servers in every case, so the difference is the servers' own traffic.
# Prints a Markdown table on stdout.
# Usage: bench/rpc_tls.sh target/release/proconsul target/release/proconsul-bench
set -euo pipefail
proconsul="$1"
bench="$2"
seconds="${KV_SECONDS:-10}"

# shellcheck source=bench/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

echo "| System | Server traffic | Clients | Writes/s | p50 (ms) | p99 (ms) | Failed |"
echo "|---|---|---|---|---|---|---|"
for clients in ${KV_CLIENTS:-1 16 256}; do
    for tls in 0 1; do
        export PEER_TLS=$tls
        traffic=$([ "$tls" = 1 ] && echo "mutual TLS" || echo "plaintext")
        start_proconsul 3
        "$bench" kv-put --api consul --urls "$urls" --clients "$clients" --seconds "$seconds" \
            --label "Proconsul, 3 servers | $traffic"
        stop_servers
        start_etcd 3
        "$bench" kv-put --api etcd --urls "$urls" --clients "$clients" --seconds "$seconds" \
            --label "etcd 3.4, 3 servers | $traffic"
        stop_servers
    done
done
