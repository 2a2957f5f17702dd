#!/usr/bin/env bash
# A/B of the read hot paths between two proconsul binaries (e.g. before and after a
# change to response encoding): each is started with -dev, given the same 10 instances
# of "web" (with a passing check each) and 20 local services, and read with wrk
# (Debian's wrk; 1 thread, 16 connections, 5 s per run), alternating A and B so that
# both see the same machine. Prints, per endpoint and run, requests/s and the agent's
# CPU time per request in microseconds (user + system, from /proc; steadier than
# throughput when the machine is shared).
#
#   bench/encode_ab.sh BIN_A BIN_B [ROUNDS]
set -euo pipefail
a="$1"; b="$2"; rounds="${3:-3}"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
port=18500
start() {
    if curl -sf "http://127.0.0.1:$port/v1/status/leader" >/dev/null 2>&1; then
        echo "port $port is taken by another agent" >&2
        exit 1
    fi
    "$1" agent -dev -http-port "$port" -dns-port -1 -server-port 18300 >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/v1/status/leader" | grep -q ':' && break
        sleep 0.1
    done
    for i in $(seq 10); do
        curl -sf -X PUT "http://127.0.0.1:$port/v1/catalog/register" -d "{\"Node\":\"n$i\",\"Address\":\"10.0.0.$i\",\"Service\":{\"ID\":\"web$i\",\"Service\":\"web\",\"Tags\":[\"v1\",\"primary\"],\"Port\":8080,\"Meta\":{\"version\":\"1\"}},\"Check\":{\"CheckID\":\"web$i-alive\",\"Name\":\"alive\",\"Status\":\"passing\",\"ServiceID\":\"web$i\",\"Definition\":{\"HTTP\":\"http://10.0.0.$i:8080/health\",\"Interval\":\"10s\"}}}" >/dev/null
    done
    for i in $(seq 20); do
        curl -sf -X PUT "http://127.0.0.1:$port/v1/agent/service/register" -d "{\"Name\":\"local$i\",\"Port\":$((9000+i)),\"Tags\":[\"a\",\"b\"],\"Meta\":{\"k\":\"v\"}}" >/dev/null
    done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
measure() {
    local before after out requests
    before=$(cpu_ticks)
    out=$(wrk -t1 -c16 -d5s "http://127.0.0.1:$port$1")
    after=$(cpu_ticks)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    printf '%s\t%.2f' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
        "$(echo "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)"
}
endpoints=(/v1/health/service/web /v1/catalog/service/web /v1/agent/services /v1/catalog/nodes)
for round in $(seq "$rounds"); do
    for side in A B; do
        bin="$a"; [ "$side" = B ] && bin="$b"
        start "$bin"
        for endpoint in "${endpoints[@]}"; do
            printf '%s\t%s\t%s\t%s\n' "$round" "$side" "$endpoint" "$(measure "$endpoint")"
        done
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
done
