#!/usr/bin/env bash
# Two datacenters of real server processes on loopback: dc1 on 127.0.0.1, dc2 on
# 127.0.0.2 (N servers each, default 3), joined over the WAN pool. Reports, in one run:
#   - the latency of a KV read answered by the local datacenter (GET on dc2's server) and
#     of the same read forwarded (GET ?dc=dc2 on dc1's server, which relays it to dc2 over
#     server RPC), alternated request by request on keep-alive connections; percentiles
#     and the added latency;
#   - the wake-up of a blocking query parked locally (on dc2) and of one parked through
#     the forwarding (on dc1 with ?dc=dc2), both woken by the same write on dc2, measured
#     from the moment the write is sent;
#   - the WAN gossip traffic per server (bytes/s sent and received over UDP, sent over
#     TCP), from the memberlist counters labelled network="wan", over an idle window.
#
#   bench/datacenters.sh [path/to/proconsul] [servers per dc] [reads] [wake-ups] [idle seconds]
#
# Build first: cargo build --release --bin proconsul (the default path is its binary).
set -euo pipefail
proconsul="${1:-target/release/proconsul}"
servers="${2:-3}"
reads="${3:-3000}"
wakeups="${4:-200}"
idle="${5:-60}"
[ -x "$proconsul" ] || { echo "no binary at $proconsul (cargo build --release --bin proconsul)" >&2; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cat >"$work/telemetry.hcl" <<'HCL'
telemetry {
  prometheus_retention_time = "10m"
  disable_hostname = true
}
HCL

# Ports: server i of a datacenter uses base + 10*i + {0: http, 1: rpc, 2: serf lan,
# 3: serf wan, 4: dns}; each datacenter has its own address, so both use the same ports.
base=23000
port_of() { echo $((base + 10 * $1 + $2)); }
start_dc() {
    local dc="$1" ip="$2" join_wan="$3"
    for i in $(seq 1 "$servers"); do
        local joins=()
        for j in $(seq 1 "$servers"); do
            [ "$j" = "$i" ] || joins+=("-retry-join=$ip:$(port_of "$j" 2)")
        done
        local wan=()
        [ -n "$join_wan" ] && wan=("-retry-join-wan=$join_wan")
        local mode=(-bootstrap)
        [ "$servers" -gt 1 ] && mode=(-bootstrap-expect="$servers")
        "$proconsul" agent -server "${mode[@]}" -datacenter="$dc" -data-dir="$work/$dc-$i" \
            -node="$dc-server-$i" -bind="$ip" -client="$ip" -config-file="$work/telemetry.hcl" \
            -http-port="$(port_of "$i" 0)" -server-port="$(port_of "$i" 1)" \
            -serf-lan-port="$(port_of "$i" 2)" -serf-wan-port="$(port_of "$i" 3)" \
            -dns-port="$(port_of "$i" 4)" -retry-interval=200ms "${joins[@]}" "${wan[@]}" \
            >"$work/$dc-$i.log" 2>&1 &
        pids+=("$!")
    done
}
start_dc dc1 127.0.0.1 ""
start_dc dc2 127.0.0.2 "127.0.0.1:$(port_of 1 3)"
dc1="127.0.0.1:$(port_of 1 0)"
dc2="127.0.0.2:$(port_of 1 0)"
for addr in "$dc1" "$dc2"; do
    for _ in $(seq 1 300); do
        curl -s "http://$addr/v1/status/leader" | grep -q ':' && break
        sleep 0.2
    done
done
want=$((2 * servers))
for _ in $(seq 1 300); do
    alive=$(curl -s "http://$dc1/v1/agent/members?wan=1" | grep -o '"Status":1' | wc -l)
    [ "$alive" -ge "$want" ] && break
    sleep 0.2
done
echo "WAN members alive: $alive of $want"
for _ in $(seq 1 300); do
    curl -s "http://$dc1/v1/catalog/datacenters" | grep -q dc2 && break
    sleep 0.2
done
curl -s -X PUT -d value "http://$dc2/v1/kv/bench/read" >/dev/null
curl -s -X PUT -d 0 "http://$dc2/v1/kv/bench/watch" >/dev/null

python3 - "$dc1" "$dc2" "$reads" "$wakeups" <<'PY'
import http.client, sys, threading, time

dc1, dc2, reads, wakeups = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def connect(addr):
    host, port = addr.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=120)

def request(conn, method, path, body=None):
    conn.request(method, path, body=body)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise SystemExit(f"{method} {path}: {response.status} {data!r}")
    return response, data

def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]

def report(name, values):
    ms = [v * 1000 for v in values]
    print(f"{name}: p50 {pct(ms, 50):.3f} ms, p90 {pct(ms, 90):.3f} ms, "
          f"p99 {pct(ms, 99):.3f} ms, max {max(ms):.3f} ms ({len(ms)})")

# Reads: the same key of dc2, answered by dc2 itself or relayed by dc1, alternated.
local, forwarded = connect(dc2), connect(dc1)
for _ in range(200):
    request(local, "GET", "/v1/kv/bench/read")
    request(forwarded, "GET", "/v1/kv/bench/read?dc=dc2")
local_t, forwarded_t = [], []
for _ in range(reads):
    t = time.perf_counter(); request(local, "GET", "/v1/kv/bench/read"); local_t.append(time.perf_counter() - t)
    t = time.perf_counter(); request(forwarded, "GET", "/v1/kv/bench/read?dc=dc2"); forwarded_t.append(time.perf_counter() - t)
report("read, local (dc2 answers)        ", local_t)
report("read, forwarded (dc1 ?dc=dc2)    ", forwarded_t)
print(f"added by forwarding: p50 {1000 * (pct(forwarded_t, 50) - pct(local_t, 50)):.3f} ms, "
      f"p99 {1000 * (pct(forwarded_t, 99) - pct(local_t, 99)):.3f} ms")

# Blocking wake-ups: both watchers parked on the key's index, one write on dc2 wakes both.
watch_local, watch_forwarded, writer = connect(dc2), connect(dc1), connect(dc2)
response, _ = request(writer, "GET", "/v1/kv/bench/watch")
index = int(response.getheader("X-Consul-Index"))
local_w, forwarded_w = [], []
for round_ in range(wakeups):
    woke = {}
    def watch(name, conn, path):
        _, _ = request(conn, "GET", path)
        woke[name] = time.perf_counter()
    threads = [
        threading.Thread(target=watch, args=("local", watch_local, f"/v1/kv/bench/watch?index={index}&wait=60s")),
        threading.Thread(target=watch, args=("forwarded", watch_forwarded, f"/v1/kv/bench/watch?dc=dc2&index={index}&wait=60s")),
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.15)  # both parked (the forwarded one at dc2's server)
    sent = time.perf_counter()
    response, _ = request(writer, "PUT", "/v1/kv/bench/watch", body=str(round_).encode())
    for thread in threads:
        thread.join()
    local_w.append(woke["local"] - sent)
    forwarded_w.append(woke["forwarded"] - sent)
    response, _ = request(writer, "GET", "/v1/kv/bench/watch")
    index = int(response.getheader("X-Consul-Index"))
report("wake-up, local (parked on dc2)   ", local_w)
report("wake-up, forwarded (dc1 ?dc=dc2) ", forwarded_w)
print(f"added by forwarding: p50 {1000 * (pct(forwarded_w, 50) - pct(local_w, 50)):.3f} ms, "
      f"p99 {1000 * (pct(forwarded_w, 99) - pct(local_w, 99)):.3f} ms")
PY

# WAN gossip: the memberlist byte counters labelled network="wan", on every server.
wan_bytes() {
    local addr="$1"
    curl -s "http://$addr/v1/agent/metrics?format=prometheus" | awk '
        /^consul_memberlist_udp_sent\{.*network="wan"/ { us += $NF }
        /^consul_memberlist_udp_received\{.*network="wan"/ { ur += $NF }
        /^consul_memberlist_tcp_sent\{.*network="wan"/ { ts += $NF }
        END { printf "%d %d %d\n", us, ur, ts }'
}
addrs=()
for dc_ip in 127.0.0.1 127.0.0.2; do
    for i in $(seq 1 "$servers"); do addrs+=("$dc_ip:$(port_of "$i" 0)"); done
done
declare -A before
for addr in "${addrs[@]}"; do before[$addr]="$(wan_bytes "$addr")"; done
sleep "$idle"
for addr in "${addrs[@]}"; do
    read -r us0 ur0 ts0 <<<"${before[$addr]}"
    read -r us1 ur1 ts1 <<<"$(wan_bytes "$addr")"
    awk -v a="$addr" -v us=$((us1 - us0)) -v ur=$((ur1 - ur0)) -v ts=$((ts1 - ts0)) -v t="$idle" 'BEGIN {
        printf "WAN gossip %s: UDP out %.0f B/s, UDP in %.0f B/s, TCP out %.0f B/s\n", a, us/t, ur/t, ts/t
    }'
done
