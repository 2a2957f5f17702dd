#!/usr/bin/env bash
# HTTPS against plain HTTP on the same agent, alternating: discovery reads, the agent's
# service list and catalog registrations over kept-alive connections (wrk: 1 thread, 16 connections, 5 s),
# and new TLS handshakes per second (wrk with `Connection: close`). Certificates are made
# with `proconsul tls ca create` and `tls cert create -server`. Prints requests/s and the
# agent's CPU time per request (µs) per layout, endpoint, scheme and round. Two layouts:
# `shared` (agent and wrk on both cores, so the client's own encryption takes CPU from the
# agent) and `pinned` (agent on core 0, wrk on core 1: the agent's own cost of TLS).
#
#   bench/https_ab.sh BIN [ROUNDS]
set -euo pipefail
bin="$(realpath "$1")"; rounds="${2:-3}"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
http_port=18710; https_port=18711
work="$(mktemp -d)"
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
( cd "$work" && "$bin" tls ca create >/dev/null && "$bin" tls cert create -server -dc dc1 >/dev/null )
cat >"$work/tls.json" <<JSON
{"ports": {"https": $https_port},
 "tls": {"defaults": {"ca_file": "$work/consul-agent-ca.pem",
                      "cert_file": "$work/dc1-server-consul-0.pem",
                      "key_file": "$work/dc1-server-consul-0-key.pem"}}}
JSON
"$bin" agent -dev -http-port "$http_port" -dns-port -1 -server-port 18312 \
    -config-file "$work/tls.json" >"$work/agent.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$http_port/v1/status/leader" | grep -q ':' && break
    sleep 0.1
done
for i in $(seq 10); do
    curl -sf -X PUT "http://127.0.0.1:$http_port/v1/catalog/register" -d "{\"Node\":\"n$i\",\"Address\":\"10.0.0.$i\",\"Service\":{\"ID\":\"web$i\",\"Service\":\"web\",\"Port\":8080},\"Check\":{\"CheckID\":\"web$i-alive\",\"Name\":\"alive\",\"Status\":\"passing\",\"ServiceID\":\"web$i\"}}" >/dev/null
done
# Registrations: the same catalog registration, written through Raft each time.
cat >"$work/register.lua" <<'LUA'
wrk.method = "PUT"
wrk.body = '{"Node":"bench","Address":"10.1.1.1","Service":{"ID":"reg1","Service":"reg","Port":1}}'
LUA
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
measure() {
    local before after out requests
    before=$(cpu_ticks)
    out=$($client wrk -t1 -c16 -d5s "$@")
    after=$(cpu_ticks)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    printf '%s\t%.2f' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
        "$(echo "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)"
}
for layout in shared pinned; do
    if [ "$layout" = pinned ]; then
        taskset -a -p -c 0 "$pid" >/dev/null; client="taskset -c 1"
    else
        taskset -a -p -c 0-1 "$pid" >/dev/null; client=""
    fi
    for round in $(seq "$rounds"); do
        for scheme in http https; do
            port=$http_port; [ "$scheme" = https ] && port=$https_port
            for endpoint in /v1/health/service/web /v1/agent/services; do
                printf '%s\t%s\t%s\tGET %s\t%s\n' "$layout" "$round" "$scheme" "$endpoint" \
                    "$(measure "$scheme://127.0.0.1:$port$endpoint")"
            done
            printf '%s\t%s\t%s\tPUT /v1/catalog/register\t%s\n' "$layout" "$round" "$scheme" \
                "$(measure -s "$work/register.lua" "$scheme://127.0.0.1:$port/v1/catalog/register")"
            printf '%s\t%s\t%s\tnew connection per request\t%s\n' "$layout" "$round" "$scheme" \
                "$(measure -H 'Connection: close' "$scheme://127.0.0.1:$port/v1/status/leader")"
        done
    done
done
