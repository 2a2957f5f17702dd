#!/usr/bin/env bash
# Metrics recording on versus off, same binary, same machine, alternating: discovery
# reads and registrations against `proconsul agent -dev`, once with `-no-metrics` (no
# recorder is installed: every instrumented call is the metrics facade's no-op) and once
# with metrics on and Prometheus output enabled (`telemetry { prometheus_retention_time
# = "60s" }`), the issue's target being under 3% throughput loss. Reads and writes are
# driven by Debian's wrk (1 thread, 16 connections, DURATION per run); registrations use
# a wrk script that PUTs agent service registrations with distinct IDs. After the load,
# with metrics on, one `?format=prometheus` scrape of the loaded agent is timed (target:
# under 5 ms) and its size reported. Prints requests/s and the agent's CPU time per
# request (µs) per endpoint, mode and round.
#
#   bench/metrics_ab.sh BIN [ROUNDS] [DURATION]      e.g. bench/metrics_ab.sh target/release/proconsul 3 5s
set -euo pipefail
bin="$1"; rounds="${2:-3}"; duration="${3:-5s}"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
port=18710
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '{"telemetry":{"prometheus_retention_time":"60s","disable_hostname":true}}' >"$work/on.json"
cat >"$work/register.lua" <<'LUA'
local counter = 0
request = function()
    counter = counter + 1
    local body = '{"Name":"bench","ID":"bench-' .. counter .. '-' .. math.random(1e9) .. '","Port":8080,"Tags":["a"]}'
    return wrk.format("PUT", "/v1/agent/service/register", nil, body)
end
LUA

api() { curl -sf -X "$1" "http://127.0.0.1:$port$2" ${3:+-d "$3"}; }
start() {
    if curl -sf "http://127.0.0.1:$port/v1/status/leader" >/dev/null 2>&1; then
        echo "port $port is taken by another agent" >&2
        exit 1
    fi
    "$bin" agent -dev -http-port "$port" -dns-port -1 -server-port 18312 -serf-lan-port 18311 "$@" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/v1/status/leader" | grep -q ':' && break
        sleep 0.1
    done
}
seed() {
    for i in $(seq 10); do
        api PUT /v1/catalog/register "{\"Node\":\"n$i\",\"Address\":\"10.0.0.$i\",\"Service\":{\"ID\":\"web$i\",\"Service\":\"web\",\"Tags\":[\"v1\"],\"Port\":8080},\"Check\":{\"CheckID\":\"web$i-alive\",\"Name\":\"alive\",\"Status\":\"passing\",\"ServiceID\":\"web$i\"}}" >/dev/null
    done
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
measure() {
    local before after out requests
    before=$(cpu_ticks)
    out=$(wrk -t1 -c16 -d"$duration" "$@")
    after=$(cpu_ticks)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    printf '%s\t%.2f' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
        "$(echo "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)"
}
# The time of one scrape (ms) and its size (bytes), the median of 5.
scrape() {
    local times=() size
    for _ in $(seq 5); do
        times+=("$(curl -s -o "$work/scrape.txt" -w '%{time_total}' \
            "http://127.0.0.1:$port/v1/agent/metrics?format=prometheus")")
    done
    size=$(wc -c <"$work/scrape.txt")
    printf '%s\t%s bytes' "$(printf '%s\n' "${times[@]}" | sort -n | awk 'NR==3 {printf "%.2f ms", $1 * 1000}')" "$size"
}
for round in $(seq "$rounds"); do
    for mode in off on; do
        if [ "$mode" = on ]; then
            start -config-file "$work/on.json"
        else
            start -no-metrics
        fi
        seed
        for endpoint in /v1/health/service/web /v1/catalog/service/web; do
            printf '%s\t%s\tGET %s\t%s\n' "$round" "$mode" "$endpoint" \
                "$(measure "http://127.0.0.1:$port$endpoint")"
        done
        printf '%s\t%s\tPUT /v1/agent/service/register\t%s\n' "$round" "$mode" \
            "$(measure -s "$work/register.lua" "http://127.0.0.1:$port")"
        if [ "$mode" = on ]; then
            printf '%s\t%s\tscrape ?format=prometheus\t%s\n' "$round" "$mode" "$(scrape)"
        fi
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
done
