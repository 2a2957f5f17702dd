#!/usr/bin/env bash
# Real processes: 3 servers and N client agents (default 50) on loopback, each client joined
# through one server's gossip address. After they settle, reports the idle resident memory
# of each client agent (median, max), its proportional (PSS) and private (USS) parts, and
# the CPU the servers and the clients spent over a measured idle window (gossip,
# anti-entropy, coordinate reports: what an idle cluster costs).
#
#   bench/client_agents.sh [path/to/proconsul] [clients] [idle seconds]
#
# Build first: cargo build --profile dist --bin proconsul (the shipping build, with
# link-time optimisation; the default path is its binary).
set -euo pipefail
proconsul="${1:-target/dist/proconsul}"
clients="${2:-50}"
idle="${3:-60}"
[ -x "$proconsul" ] || { echo "no binary at $proconsul (cargo build --profile dist --bin proconsul)" >&2; exit 1; }
work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
port=22000
next_port() { port=$((port + 1)); }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# Proportional set size: shared pages (the binary's code) divided among the processes.
pss_kb() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
# Unique set size: the pages only this process maps (what one more client costs).
uss_kb() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$1/smaps_rollup"; }
median_of() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

server_serf=()
server_pids=()
for i in 1 2 3; do
    next_port; http=$port; next_port; rpc=$port; next_port; serf=$port; next_port; dns=$port
    next_port
    server_serf+=("$serf")
done
port=22000
for i in 1 2 3; do
    next_port; http=$port; next_port; rpc=$port; next_port; serf=$port; next_port; dns=$port
    next_port; wan=$port
    joins=()
    for s in "${server_serf[@]}"; do [ "$s" = "$serf" ] || joins+=("-retry-join=127.0.0.1:$s"); done
    "$proconsul" agent -server -bootstrap-expect=3 -data-dir="$work/s$i" -node="server-$i" \
        -http-port="$http" -server-port="$rpc" -serf-lan-port="$serf" -dns-port="$dns" \
        -serf-wan-port="$wan" -retry-interval=200ms "${joins[@]}" >"$work/s$i.log" 2>&1 &
    pids+=("$!"); server_pids+=("$!")
    [ "$i" = 1 ] && first_http=$http
done
for _ in $(seq 1 300); do
    curl -s "http://127.0.0.1:$first_http/v1/status/leader" | grep -q ':' && break
    sleep 0.2
done
client_pids=()
for c in $(seq 1 "$clients"); do
    next_port; http=$port; next_port; serf=$port; next_port; dns=$port
    "$proconsul" agent -data-dir="$work/c$c" -node="client-$c" -http-port="$http" \
        -serf-lan-port="$serf" -dns-port="$dns" -retry-interval=1s \
        -retry-join="127.0.0.1:${server_serf[0]}" >"$work/c$c.log" 2>&1 &
    pids+=("$!"); client_pids+=("$!")
done
want=$((clients + 3))
for _ in $(seq 1 600); do
    alive=$(curl -s "http://127.0.0.1:$first_http/v1/agent/members" | grep -o '"Status":1' | wc -l)
    [ "$alive" -ge "$want" ] && break
    sleep 0.5
done
echo "members alive: $alive of $want"
sleep 10
s0=0; for p in "${server_pids[@]}"; do s0=$((s0 + $(ticks "$p"))); done
c0=0; for p in "${client_pids[@]}"; do c0=$((c0 + $(ticks "$p"))); done
sleep "$idle"
s1=0; for p in "${server_pids[@]}"; do s1=$((s1 + $(ticks "$p"))); done
c1=0; for p in "${client_pids[@]}"; do c1=$((c1 + $(ticks "$p"))); done
hz=$(getconf CLK_TCK)
rss=$(for p in "${client_pids[@]}"; do rss_kb "$p"; done | sort -n)
median=$(echo "$rss" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
max=$(echo "$rss" | tail -1)
pss=$(for p in "${client_pids[@]}"; do pss_kb "$p"; done | median_of)
uss=$(for p in "${client_pids[@]}"; do uss_kb "$p"; done | median_of)
server_rss=$(for p in "${server_pids[@]}"; do rss_kb "$p"; done | sort -n | tail -1)
awk -v s=$((s1 - s0)) -v c=$((c1 - c0)) -v hz="$hz" -v t="$idle" -v n="$clients" \
    -v med="$median" -v max="$max" -v srv="$server_rss" -v pss="$pss" -v uss="$uss" 'BEGIN {
    printf "client agent RSS idle: median %.1f MB, max %.1f MB (%d clients)\n", med/1024, max/1024, n
    printf "client agent PSS idle: median %.1f MB; USS (private): median %.1f MB\n", pss/1024, uss/1024
    printf "server RSS (largest): %.1f MB\n", srv/1024
    printf "CPU over %ds idle: 3 servers %.2f%% of one core each, clients %.3f%% each\n", t, 100*s/hz/t/3, 100*c/hz/t/n
}'
