#!/usr/bin/env bash
# Durable KV writes and failover, Proconsul beside etcd (Debian's etcd-server) in the
# same run on the same machine: 1 server and 3 servers, 1/16/256 clients, each server
# fsyncing its log before acknowledging. Prints Markdown sections on stdout.
# Usage: bench/cluster.sh target/release/proconsul target/release/proconsul-bench
set -euo pipefail
proconsul="$1"
bench="$2"
seconds="${KV_SECONDS:-10}"

# shellcheck source=bench/cluster_lib.sh
. "$(dirname "$0")/cluster_lib.sh"

echo "## Durable KV writes: Proconsul and etcd"
echo
echo "Each system runs 1 or 3 servers on this machine, every one fsyncing its log before a write is"
echo "acknowledged (Proconsul: \`-server\` with redb; etcd 3.4: its WAL). C clients each loop one write"
echo "(a 128-byte value under a new key) for ${seconds} s, round-robin over the servers, so followers"
echo "forward to their leader as both systems do. Proconsul is written with \`PUT /v1/kv/<key>\`, etcd"
echo "through its HTTP/JSON gateway (\`POST /v3/kv/put\`): the same HTTP/1.1 + JSON cost for the client,"
echo "though etcd's gateway adds a loopback hop to its own gRPC server. Latencies are per write, in ms."
echo "Command: \`bench/cluster.sh\` (\`$bench kv-put --api consul|etcd --urls ... --clients C\`)."
echo
echo "| System | Clients | Writes/s | p50 (ms) | p99 (ms) | Failed |"
echo "|---|---|---|---|---|---|"
for n in ${KV_SERVERS-1 3}; do
    start_proconsul "$n"
    for clients in 1 16 256; do
        "$bench" kv-put --api consul --urls "$urls" --clients "$clients" --seconds "$seconds" --label "Proconsul, $n server(s)"
    done
    stop_servers
    start_etcd "$n"
    for clients in 1 16 256; do
        "$bench" kv-put --api etcd --urls "$urls" --clients "$clients" --seconds "$seconds" --label "etcd 3.4, $n server(s)"
    done
    stop_servers
done

echo
echo "## Failover"
echo
echo "Three servers; one client writes in a loop through the two followers; the leader is killed with"
echo "SIGKILL. The figure is the time from the kill to the first write that succeeds afterwards (three"
echo "runs each). Each write gives up after 500 ms and is sent again, as a client with several endpoints"
echo "would. Proconsul runs with \`performance.raft_multiplier = 1\`; etcd with its defaults (100 ms"
echo "heartbeat, 1000 ms election timeout). Command: \`$bench failover ...\`."
echo
echo "| System | Seconds |"
echo "|---|---|"
for run in 1 2 3; do
    start_proconsul 3
    leader_addr=$(curl -s "${urls%%,*}/v1/status/leader" | tr -d '"')
    leader_port="${leader_addr##*:}"
    survivors=""; leader_pid=""
    for i in 0 1 2; do
        url=$(echo "$urls" | cut -d, -f$((i + 1)))
        if [ "${proconsul_rpc[i]:-}" = "$leader_port" ]; then leader_pid="${server_pids[i]}"; else survivors="${survivors:+$survivors,}$url"; fi
    done
    "$bench" failover --api consul --urls "$survivors" --leader-pid "$leader_pid" --label "Proconsul (run $run)"
    stop_servers
    start_etcd 3
    survivors=""; leader_pid=""
    for i in 0 1 2; do
        url=$(echo "$urls" | cut -d, -f$((i + 1)))
        status=$(curl -s -X POST "$url/v3/maintenance/status" -d '{}')
        member=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["member_id"])')
        leader=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["leader"])')
        if [ "$member" = "$leader" ]; then leader_pid="${server_pids[i]}"; else survivors="${survivors:+$survivors,}$url"; fi
    done
    "$bench" failover --api etcd --urls "$survivors" --leader-pid "$leader_pid" --label "etcd 3.4 (run $run)"
    stop_servers
done
