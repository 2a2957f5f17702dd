# Shared by bench/cluster.sh and bench/rpc_tls.sh: starting and stopping clusters of
# Proconsul servers and etcd members on loopback, in plaintext or (PEER_TLS=1) with
# mutual TLS between servers, certificates made by `proconsul tls` in $work/certs.
# Expects $proconsul; sets $work, $urls, $server_pids, $proconsul_rpc.

proconsul="$(cd "$(dirname "$proconsul")" && pwd)/$(basename "$proconsul")"

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
    local -a http rpc serf wan
    for i in $(seq 1 "$n"); do
        next_port; http[i]=$port
        next_port; rpc[i]=$port
        next_port; serf[i]=$port
        next_port; wan[i]=$port
    done
    urls=""; server_pids=()
    for i in $(seq 1 "$n"); do
        local args=(agent -server -data-dir="$work/pc-${http[1]}-$i" -node="pc$n-$i" -http-port="${http[i]}"
            -server-port="${rpc[i]}" -serf-lan-port="${serf[i]}" -serf-wan-port="${wan[i]}" -dns-port=-1 -log-level=warn -raft-multiplier=1)
        if [ "${PEER_TLS:-0}" = 1 ]; then args+=(-config-file="$(proconsul_tls_config "$i")"); fi
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
        cluster="${cluster:+$cluster,}e$n-$i=$(peer_scheme)://127.0.0.1:${peer[i]}"
    done
    urls=""; server_pids=()
    for i in $(seq 1 "$n"); do
        etcd --name "e$n-$i" --data-dir "$work/e-${client[1]}-$i" \
            --listen-client-urls "http://127.0.0.1:${client[i]}" --advertise-client-urls "http://127.0.0.1:${client[i]}" \
            --listen-peer-urls "$(peer_scheme)://127.0.0.1:${peer[i]}" --initial-advertise-peer-urls "$(peer_scheme)://127.0.0.1:${peer[i]}" \
            --initial-cluster "$cluster" --initial-cluster-state new --log-level error $(etcd_peer_tls "$i") \
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


peer_scheme() { if [ "${PEER_TLS:-0}" = 1 ]; then echo https; else echo http; fi; }

# A CA and three server certificates (server.dc1.consul, localhost, 127.0.0.1), once.
make_certs() {
    [ -f "$work/certs/consul-agent-ca.pem" ] && return 0
    mkdir -p "$work/certs"
    (cd "$work/certs" && "$proconsul" tls ca create >/dev/null 2>&1 &&
        for _ in 1 2 3; do "$proconsul" tls cert create -server -dc dc1 >/dev/null 2>&1; done)
}

# Proconsul server i's configuration: mutual TLS on server RPC, every check on.
proconsul_tls_config() {
    make_certs
    local c="$work/certs" n=$(($1 - 1)) file="$work/certs/pc-$1.json"
    cat >"$file" <<JSON
{"tls": {"internal_rpc": {"ca_file": "$c/consul-agent-ca.pem",
  "cert_file": "$c/dc1-server-consul-$n.pem", "key_file": "$c/dc1-server-consul-$n-key.pem",
  "verify_incoming": true, "verify_outgoing": true, "verify_server_hostname": true}}}
JSON
    echo "$file"
}

# etcd member i's peer TLS flags (client certificates required), when PEER_TLS=1.
etcd_peer_tls() {
    [ "${PEER_TLS:-0}" = 1 ] || return 0
    make_certs
    local c="$work/certs" n=$(($1 - 1))
    echo "--peer-cert-file $c/dc1-server-consul-$n.pem --peer-key-file $c/dc1-server-consul-$n-key.pem" \
        "--peer-trusted-ca-file $c/consul-agent-ca.pem --peer-client-cert-auth"
}
