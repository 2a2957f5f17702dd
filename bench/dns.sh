#!/usr/bin/env bash
# DNS benchmark: dnsperf (Debian) against proconsul's DNS interface and, in the same run,
# against NSD (Debian) serving an equivalent static zone. Prints a Markdown section.
# Usage: bench/dns.sh [path/to/proconsul]     (about 3 minutes; installs dnsperf and nsd)
set -euo pipefail
cd "$(dirname "$0")/.."
binary="${1:-target/release/proconsul}"

missing=()
command -v dnsperf >/dev/null || missing+=(dnsperf)
command -v nsd >/dev/null || missing+=(nsd)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work="$(mktemp -d)"
http_port="$(free_port)"; dns_port="$(free_port)"; rpc_port="$(free_port)"; nsd_port="$(free_port)"
agent_pid=""; nsd_pid=""
cleanup() {
    [ -n "${KEEP:-}" ] && return
    [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
    [ -n "$nsd_pid" ] && kill "$nsd_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$binary" agent -dev -node bench -http-port "$http_port" -dns-port "$dns_port" \
    -server-port "$rpc_port" -log-level warn > "$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$http_port/v1/status/leader" | grep -q 127 && break
    sleep 0.1
done

# The same instances in the catalog and in the static zone: service svcN has N instances,
# each on its own node with its own IPv4 address.
zone="$work/consul.zone"
cat > "$zone" <<EOF
\$ORIGIN consul.
\$TTL 0
@ IN SOA ns.consul. hostmaster.consul. 1 3600 600 86400 0
@ IN NS ns.consul.
ns IN A 127.0.0.1
EOF
registrations="$work/registrations"
: > "$registrations"
for count in 10 1000; do
    for i in $(seq 0 $((count - 1))); do
        node="n$count-$i"
        address="10.$((count % 250)).$((i / 250)).$((i % 250 + 1))"
        port=$((8000 + i))
        printf '{"Node":"%s","Address":"%s","Service":{"Service":"svc%s","Port":%s}}\n' \
            "$node" "$address" "$count" "$port" >> "$registrations"
        printf 'svc%s.service IN A %s\n' "$count" "$address" >> "$zone"
        printf 'svc%s.service IN SRV 1 1 %s %s.node.dc1.consul.\n' "$count" "$port" "$node" >> "$zone"
        printf '%s.node.dc1 IN A %s\n' "$node" "$address" >> "$zone"
    done
done
xargs -P 8 -d '\n' -I{} curl -sf -X PUT --data-raw {} \
    "http://127.0.0.1:$http_port/v1/catalog/register" -o /dev/null < "$registrations"

cat > "$work/nsd.conf" <<EOF
server:
    ip-address: 127.0.0.1
    port: $nsd_port
    server-count: 2
    username: ""
    zonesdir: "$work"
    database: ""
    pidfile: "$work/nsd.pid"
    xfrdfile: "$work/xfrd.state"
    zonelistfile: "$work/zone.list"
    logfile: "$work/nsd.log"
    verbosity: 0
    # Debian's NSD limits each client to 200 queries/s by default (response rate limiting).
    rrl-ratelimit: 0
    rrl-whitelist-ratelimit: 0
remote-control:
    control-enable: no
zone:
    name: "consul."
    zonefile: "consul.zone"
EOF
nsd -d -c "$work/nsd.conf" > "$work/nsd.out" 2>&1 &
nsd_pid=$!
sleep 1

# Both servers must know every instance before they are compared (A over TCP: 1,000 SRV
# answers with their Additional records do not fit one 64 KiB message).
for count in 10 1000; do
    for server in "$dns_port" "$nsd_port"; do
        answers="$(dig @127.0.0.1 -p "$server" +tcp +short "svc$count.service.consul" A | wc -l)"
        if [ "$answers" -ne "$count" ]; then
            echo "server on port $server (agent DNS $dns_port, NSD $nsd_port) gives $answers A answers for svc$count, expected $count" >&2
            exit 1
        fi
    done
done

# dnsperf with one thread (about one core); the server gets the other core.
throughput() { # port query-file -> "qps response-bytes"
    dnsperf -s 127.0.0.1 -p "$1" -d "$2" -e -l 5 -c 4 -q 200 -T 1 2>/dev/null | awk '
        /Queries per second/ { qps = $4 }
        /Average packet size/ { bytes = $7 }
        END { printf "%d %s\n", qps, bytes }'
}
latency() { # port query-file -> "p50-ms p99-ms" at a fixed 5,000 queries/s
    dnsperf -s 127.0.0.1 -p "$1" -d "$2" -e -l 3 -Q 5000 -v 2>/dev/null |
        awk '/^> / { print $NF * 1000 }' | sort -g | awk '
            { v[NR] = $1 }
            END { printf "%.3f %.3f\n", v[int(NR * 0.50)], v[int(NR * 0.99)] }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "## DNS queries per second"
echo
echo "\`dnsperf\` (Debian, one thread, 4 clients, 200 queries outstanding, EDNS0) against the agent's DNS"
echo "interface (\`proconsul agent -dev\`, release build) and, in the same run, against NSD $(nsd -v 2>&1 | awk 'NR==1 {print $3}')"
echo "(Debian, 2 server processes) serving a static zone with the same records. Service svcN has N"
echo "instances, each on its own node. Throughput is the median of 3 runs of 5 s at full load; latency"
echo "percentiles come from a separate 3 s run at a fixed 5,000 queries/s. Answers differ in one way"
echo "that matters: NSD sends a whole RRset or sets TC without it, while the agent fills the client's"
echo "EDNS buffer (4096 bytes from dnsperf) with shuffled answers and their Additional records; the"
echo "response sizes show the work each server did (NSD's 51-byte answers for 1,000 instances are"
echo "empty with TC set: the client must ask again over TCP). The agent reuses encoded answers to"
echo "service lookups until the service changes (rotations of one random order; see ARCHITECTURE.md,"
echo "\`response_cache.rs\`), so this measures the steady state of a registry between changes; the"
echo "cost of building an answer is in the next table. Command: \`bench/dns.sh\`."
echo
echo "| Query | Instances | Server | Queries/s | Ratio to NSD | Response bytes | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
for count in 10 1000; do
    for type in A SRV; do
        queries="$work/q-$count-$type"
        echo "svc$count.service.consul $type" > "$queries"
        declare -A qps bytes lat
        for server in nsd proconsul; do
            port="$nsd_port"
            [ "$server" = proconsul ] && port="$dns_port"
            runs=()
            for _ in 1 2 3; do runs+=("$(throughput "$port" "$queries")"); done
            qps[$server]="$(printf '%s\n' "${runs[@]}" | awk '{print $1}' | median)"
            bytes[$server]="$(printf '%s\n' "${runs[@]}" | awk 'NR==1 {print $2}')"
            lat[$server]="$(latency "$port" "$queries")"
        done
        for server in proconsul nsd; do
            ratio="$(awk -v a="${qps[$server]}" -v b="${qps[nsd]}" 'BEGIN { printf "%.2f", a / b }')"
            read -r p50 p99 <<< "${lat[$server]}"
            echo "| $type | $count | $server | ${qps[$server]} | $ratio | ${bytes[$server]} | $p50 | $p99 |"
        done
    done
done

profile="$(dirname "$binary")/examples/profile_answers"
if [ -x "$profile" ]; then
    echo
    echo "Building an answer without reuse, in-process (no sockets): the request handler's time per"
    echo "query when every question is new to the response cache (the name's case varies per query)."
    echo "Command: \`$profile INSTANCES TYPE ROUNDS fresh\`."
    echo
    echo "| Query | Instances | Time per query | Response bytes |"
    echo "|---|---|---|---|"
    for count in 10 1000; do
        for type in A SRV; do
            rounds=20000
            [ "$count" -eq 1000 ] && rounds=2000
            "$profile" "$count" "$type" "$rounds" fresh |
                awk -v c="$count" -v t="$type" '{ print "| " t " | " c " | " $3 " | " $6 " |" }'
        done
    done
fi
