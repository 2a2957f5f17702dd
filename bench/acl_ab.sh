#!/usr/bin/env bash
# ACLs on versus off, same binary, same machine, alternating: discovery reads and
# registrations against `proconsul agent -dev`, once without ACLs and once with
# `default_policy = "deny"` and a token carrying a dozen policies (the issue's target:
# under 10% throughput loss). Every request carries a token in `X-Consul-Token` in both
# modes, so the difference is what the agent does with it, not the bytes of the header. Reads and writes are driven by Debian's wrk (1 thread, 16
# connections, 5 s); registrations use a wrk script that PUTs agent service
# registrations with distinct IDs. Prints requests/s and the agent's CPU time per
# request (µs) per endpoint, mode and round.
#
#   bench/acl_ab.sh BIN [ROUNDS]
set -euo pipefail
bin="$1"; rounds="${2:-3}"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
port=18700
management="b0b0b0b0-0000-4000-8000-000000000001"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '{"acl":{"enabled":true,"default_policy":"deny","tokens":{"initial_management":"%s"}}}' \
    "$management" >"$work/acl.json"
cat >"$work/register.lua" <<'LUA'
local counter = 0
request = function()
    counter = counter + 1
    local body = '{"Name":"bench","ID":"bench-' .. counter .. '-' .. math.random(1e9) .. '","Port":8080,"Tags":["a"]}'
    return wrk.format("PUT", "/v1/agent/service/register", {["X-Consul-Token"] = os.getenv("TOKEN")}, body)
end
LUA

api() { curl -sf -X "$1" "http://127.0.0.1:$port$2${token_query}" ${3:+-d "$3"}; }
start() {
    if curl -sf "http://127.0.0.1:$port/v1/status/leader" >/dev/null 2>&1; then
        echo "port $port is taken by another agent" >&2
        exit 1
    fi
    "$bin" agent -dev -http-port "$port" -dns-port -1 -server-port 18302 "$@" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/v1/status/leader" | grep -q ':' && break
        sleep 0.1
    done
}
# A token with 12 policies: read on the benchmark's services and nodes, write on its
# registrations, and nine that grant unrelated prefixes.
make_token() {
    token_query="?token=$management"
    for _ in $(seq 50); do api GET /v1/acl/token/self >/dev/null 2>&1 && break; sleep 0.1; done
    local ids=()
    local rules=(
        'service_prefix "" { policy = "write" }'
        'node_prefix "" { policy = "read" }'
        'agent_prefix "" { policy = "read" }'
    )
    for i in $(seq 9); do rules+=("key_prefix \"team$i/\" { policy = \"write\" }"); done
    local i=0
    for rule in "${rules[@]}"; do
        i=$((i + 1))
        local body
        body=$(python3 -c 'import json,sys; print(json.dumps({"Name": sys.argv[1], "Rules": sys.argv[2]}))' "p$i" "$rule")
        ids+=("$(api PUT /v1/acl/policy "$body" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ID"])')")
    done
    local links
    links=$(printf '{"ID":"%s"},' "${ids[@]}")
    api PUT /v1/acl/token "{\"Policies\":[${links%,}]}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretID"])'
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
    out=$(TOKEN="$client_token" wrk -t1 -c16 -d5s -H "X-Consul-Token: $client_token" "$@")
    after=$(cpu_ticks)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    printf '%s\t%.2f' "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" \
        "$(echo "($after - $before) * 1000000 / $(getconf CLK_TCK) / $requests" | bc -l)"
}
for round in $(seq "$rounds"); do
    for mode in off on; do
        token_query=""
        # The client sends a token either way (as a client configured with one does, in
        # X-Consul-Token like HashiCorp's); without ACLs it is ignored.
        client_token="00000000-0000-4000-8000-$(printf '%012d' "$round")"
        if [ "$mode" = on ]; then
            start -config-file "$work/acl.json"
            client_token=$(make_token)
            token_query="?token=$management"
            seed
        else
            start
            seed
        fi
        for endpoint in /v1/health/service/web /v1/catalog/service/web /v1/agent/services; do
            printf '%s\t%s\tGET %s\t%s\n' "$round" "$mode" "$endpoint" \
                "$(measure "http://127.0.0.1:$port$endpoint")"
        done
        printf '%s\t%s\tPUT /v1/agent/service/register\t%s\n' "$round" "$mode" \
            "$(measure -s "$work/register.lua" "http://127.0.0.1:$port")"
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
done
