#!/usr/bin/env bash
# The cost of metrics in instructions, not seconds: the same binary run as `agent -dev`
# under valgrind's callgrind, once with `-no-metrics` (no recorder: every instrumented
# call is the facade's no-op) and once with metrics on and Prometheus output enabled.
# Instruction counts do not depend on what else the machine is doing, so this answers
# issue 18's "under 3% throughput loss" on a shared or loaded machine, where
# bench/metrics_ab.sh's requests/s swing more than 3% between rounds.
#
# For each mode: start the agent under callgrind, register 10 instances of `web`, send
# WARMUP requests of each kind, then for each kind zero the counters, send N requests
# over one keep-alive connection, and dump: the instructions the whole agent (every
# thread, background tasks included) executed per request. Prints one line per kind and
# mode, and the on/off ratio.
#
# The whole agent's count includes work done per second rather than per request (Raft
# heartbeats, timers, the metrics sampler), which callgrind's slowdown stretches over
# fewer requests and the machine's load makes vary between runs by a few hundred
# instructions a request. So each count is also split (callgrind_annotate, inclusive):
# `request`, the connection task that serves the requests (axum's handle_connection:
# parsing, routing, the handler, the api.http timer, encoding); `sampler`, the metrics
# sampler's task (the collection of every recorded sample, which grows with requests,
# and its fixed per-second work); `rest`, everything else.
#
#   bench/metrics_callgrind.sh BIN [N] [WARMUP]      e.g. bench/metrics_callgrind.sh target/release/proconsul 2000 200
#
# With CALLGRIND_KEEP=DIR each dump is kept as DIR/KIND-MODE.out, for callgrind_annotate.
set -euo pipefail
bin="$1"; requests="${2:-2000}"; warmup="${3:-200}"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
port=18720
work="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
printf '{"telemetry":{"prometheus_retention_time":"60s","disable_hostname":true}}' >"$work/on.json"

# N requests of one kind over one keep-alive connection; fails on any non-200.
cat >"$work/load.py" <<'PY'
import http.client, json, sys
port, kind, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
for i in range(count):
    if kind == "health":
        conn.request("GET", "/v1/health/service/web")
    elif kind == "catalog":
        conn.request("GET", "/v1/catalog/service/web")
    else:
        body = json.dumps({"Name": "bench", "ID": f"bench-{sys.argv[4]}-{i}", "Port": 8080, "Tags": ["a"]})
        conn.request("PUT", "/v1/agent/service/register", body)
    answer = conn.getresponse()
    answer.read()
    if answer.status != 200:
        sys.exit(f"{kind}: {answer.status}")
PY

api() { curl -sf -X "$1" "http://127.0.0.1:$port$2" ${3:+-d "$3"}; }
# The newest dump: instructions executed since the last zeroing, in all, in the
# connection task and in the metrics sampler (tab-separated).
dumped_instructions() {
    local file
    file=$(ls -t "$work"/callgrind.out.* | head -1)
    callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$file" | awk '
        function count(text) { gsub(/,/, "", text); return text + 0 }
        /PROGRAM TOTALS/ { total = count($1) }
        /axum::serve::handle_connection::\{\{closure\}\}::\{\{closure\}\} / { if (count($1) > request) request = count($1) }
        /proconsul_agent::metrics_sampler::run::\{\{closure\}\} / { if (count($1) > sampler) sampler = count($1) }
        END { printf "%d\t%d\t%d\n", total, request, sampler }'
}
for mode in off on; do
    rm -f "$work"/callgrind.out.*
    if [ "$mode" = on ]; then flags=(-config-file "$work/on.json"); else flags=(-no-metrics); fi
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out.%p" \
        "$bin" agent -dev -http-port "$port" -dns-port -1 -server-port 18722 \
        -serf-lan-port 18721 -serf-wan-port 18723 "${flags[@]}" >"$work/agent-$mode.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$port/v1/status/leader" | grep -q ':' && break
        sleep 0.5
    done
    for i in $(seq 10); do
        api PUT /v1/catalog/register "{\"Node\":\"n$i\",\"Address\":\"10.0.0.$i\",\"Service\":{\"ID\":\"web$i\",\"Service\":\"web\",\"Tags\":[\"v1\"],\"Port\":8080},\"Check\":{\"CheckID\":\"web$i-alive\",\"Name\":\"alive\",\"Status\":\"passing\",\"ServiceID\":\"web$i\"}}" >/dev/null
    done
    for kind in health catalog register; do
        python3 "$work/load.py" "$port" "$kind" "$warmup" warm
    done
    for kind in health catalog register; do
        callgrind_control -z "$pid" >/dev/null 2>&1
        python3 "$work/load.py" "$port" "$kind" "$requests" "$mode"
        callgrind_control -d "$pid" >/dev/null 2>&1
        sleep 1
        IFS=$'\t' read -r total request sampler < <(dumped_instructions)
        if [ -n "${CALLGRIND_KEEP:-}" ]; then
            mkdir -p "$CALLGRIND_KEEP"
            cp "$(ls -t "$work"/callgrind.out.* | head -1)" "$CALLGRIND_KEEP/$kind-$mode.out"
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$mode" "$((total / requests))" \
            "$((request / requests))" "$((sampler / requests))" | tee -a "$work/results.tsv"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
echo "instructions per request, metrics off -> on (all: the whole agent; request: the connection task; sampler: the metrics sampler; rest: the others):"
awk -F'\t' '{for (c = 3; c <= 5; c++) v[$1 "," $2 "," c] = $c} END {
    n = split("health catalog register", kinds, " ")
    for (i = 1; i <= n; i++) { k = kinds[i]
        for (m = 1; m <= 2; m++) { mode = m == 1 ? "off" : "on"
            all[mode] = v[k "," mode ",3"]; req[mode] = v[k "," mode ",4"]; smp[mode] = v[k "," mode ",5"]
            rest[mode] = all[mode] - req[mode] - smp[mode] }
        printf "  %-9s all %7d -> %7d %+6.2f%% | request %7d -> %7d %+6.2f%% | sampler %5d -> %5d | rest %6d -> %6d | request+sampler %+6.2f%%\n",
            k, all["off"], all["on"], 100 * (all["on"] / all["off"] - 1),
            req["off"], req["on"], 100 * (req["on"] / req["off"] - 1),
            smp["off"], smp["on"], rest["off"], rest["on"],
            100 * ((req["on"] + smp["on"]) / (req["off"] + smp["off"]) - 1) }
}' "$work/results.tsv"
