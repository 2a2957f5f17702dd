#!/usr/bin/env bash
# Durable KV writes and failover, Proconsul beside etcd (Debian's etcd-server) in the
# same run on the same machine: 1 server and 3 servers, 1/16/256 clients, each server
# fsyncing its log before acknowledging. Prints Markdown sections on stdout.
# Usage: bench/cluster.sh target/release/proconsul target/release/proconsul-bench
set -euo pipefail
proconsul="$1"
bench="$2"
seconds="${KV_SECONDS:-10}"

if ! command -v etcd >/dev/null; then
    echo "installing etcd-server (Debian)" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y etcd-server >&2; else sudo apt-get install -y etcd-server >&2; fi
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

port=20000
# Sets $port to the next port (no subshell, so the counter moves).
next_port() { port=$((port + 1)); }

wait_http() { # url, expected substring
    for _ in $(seq 1 300); do
        if curl -s --max-time 1 "$1" 2>/dev/null | grep -q "$2"; then return 0; fi
        sleep 0.1
    done
    echo "timed out waiting for $1" >&2
    return 1
}

# Starts N proconsul servers; sets urls (comma-separated) and server_pids.
start_proconsul() {
    local n="$1" i
    local -a http rpc
    for i in $(seq 1 "$n"); do
        next_port; http[i]=$port
        next_port; rpc[i]=$port
    done
    urls=""; server_pids=()
    for i in $(seq 1 "$n"); do
        local args=(agent -server -data-dir="$work/pc-${http[1]}-$i" -node="pc$n-$i" -http-port="${http[i]}"
            -server-port="${rpc[i]}" -dns-port=-1 -log-level=warn -raft-multiplier=1)
        if [ "$n" = 1 ]; then args+=(-bootstrap); else
            args+=(-bootstrap-expect="$n")
            local j; for j in $(seq 1 "$n"); do [ "$j" = "$i" ] || args+=(-retry-join="127.0.0.1:${rpc[j]}"); done
        fi
        "$proconsul" "${args[@]}" >"$work/pc-${http[1]}-$i.log" 2>&1 &
        pids+=($!); server_pids+=($!)
        urls="${urls:+$urls,}http://127.0.0.1:${http[i]}"
    done
    for i in $(seq 1 "$n"); do wait_http "http://127.0.0.1:${http[i]}/v1/status/leader" ':'; done
    proconsul_rpc=("${rpc[@]}")
}

# Starts N etcd members; sets urls and server_pids.
start_etcd() {
    local n="$1" i cluster=""
    local -a client peer
    for i in $(seq 1 "$n"); do
        next_port; client[i]=$port
        next_port; peer[i]=$port
        cluster="${cluster:+$cluster,}e$n-$i=http://127.0.0.1:${peer[i]}"
    done
    urls=""; server_pids=()
    for i in $(seq 1 "$n"); do
        etcd --name "e$n-$i" --data-dir "$work/e-${client[1]}-$i" \
            --listen-client-urls "http://127.0.0.1:${client[i]}" --advertise-client-urls "http://127.0.0.1:${client[i]}" \
            --listen-peer-urls "http://127.0.0.1:${peer[i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[i]}" \
            --initial-cluster "$cluster" --initial-cluster-state new --log-level error \
            >"$work/e-${client[1]}-$i.log" 2>&1 &
        pids+=($!); server_pids+=($!)
        urls="${urls:+$urls,}http://127.0.0.1:${client[i]}"
    done
    for i in $(seq 1 "$n"); do wait_http "http://127.0.0.1:${client[i]}/health" '"health":"true"'; done
}

stop_servers() {
    for pid in "${server_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait "${server_pids[@]}" 2>/dev/null || true
}

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
