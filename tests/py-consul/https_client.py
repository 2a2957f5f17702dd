"""py-consul against a Proconsul agent that serves its API over HTTPS only and requires
client certificates (verify_incoming). Run in the venv tests/py-consul/venv.sh makes, by
tests/tests/https_clients.rs.

    https_client.py --name N [--ca ca.pem] [--cert c.pem --key c-key.pem] --port P [--host H]
    https_client.py --name N [--ca ca.pem] [--cert ... --key ...] --env
        (host, port and scheme from CONSUL_HTTP_ADDR=https://HOST:PORT, as py-consul reads it)

The agent's certificate is verified against --ca (py-consul's `verify`), else against
requests' default roots; --cert and --key are py-consul's `cert`. With --x509-strict the
client's session verifies with OpenSSL's VERIFY_X509_STRICT, as urllib3 does on Python
3.13+ (whatever Python runs this).

It puts and reads back a KV entry, registers a service with a TTL check on the agent,
passes the check, reads the service from the catalog and from health (passing only),
deregisters it and reads the catalog again. Each step that succeeds prints "ok: STEP".

Exit status: 0 when every answer is as expected; 1 when an answer is wrong; 2 when a
request fails (a refused TLS handshake, for one: printed on stderr as
"request failed: STEP: <exception class>: <message>"); 3 on bad usage.
"""

from __future__ import annotations

import argparse
import ssl
import sys

import consul
import requests
import requests.adapters
import urllib3.util.ssl_

STEP = "new client"


def step(name: str) -> None:
    global STEP
    STEP = name


def ok(name: str) -> None:
    print(f"ok: {name}", flush=True)


def wrong(message: str) -> None:
    print(f"wrong answer: {STEP}: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class StrictAdapter(requests.adapters.HTTPAdapter):
    """Verifies as urllib3 does on Python 3.13+: VERIFY_X509_STRICT and PARTIAL_CHAIN."""

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = urllib3.util.ssl_.create_urllib3_context(
            verify_flags=ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
        )
        super().init_poolmanager(*args, **kwargs)


def run(args: argparse.Namespace) -> None:
    cert = (args.cert, args.key) if args.cert else None
    verify = args.ca or True
    if args.env:
        c = consul.Consul(verify=verify, cert=cert)
    else:
        c = consul.Consul(host=args.host, port=args.port, scheme="https", verify=verify, cert=cert)
    if c.scheme != "https" or not c.http.base_uri.startswith("https://"):
        wrong(f"the client's base URI is {c.http.base_uri}, not https")
    if args.x509_strict:
        c.http.session.mount("https://", StrictAdapter())

    step("status leader")
    if not c.status.leader():
        wrong("no leader")
    ok(STEP)

    step("kv put/get")
    key = f"https-clients/{args.name}"
    value = f"value of {args.name}".encode()
    if c.kv.put(key, value, flags=42) is not True:
        wrong("put did not answer true")
    _, entry = c.kv.get(key)
    if entry is None or entry["Value"] != value or entry["Flags"] != 42:
        wrong(f"read back {entry!r}")
    ok(STEP)

    step("agent service register")
    service = f"web-{args.name}"
    service_id = f"{service}-1"
    check_id = f"{service}-ttl"
    check = consul.Check.ttl("10m")
    check["CheckID"] = check_id
    registered = c.agent.service.register(
        service, service_id=service_id, port=8080, tags=["tls", args.name], meta={"client": "python"}, check=check
    )
    if registered is not True:
        wrong(f"register answered {registered!r}")
    if c.agent.check.ttl_pass(check_id, notes="alive") is not True:
        wrong("ttl_pass did not answer true")
    ok(STEP)

    step("catalog service")
    _, instances = c.catalog.service(service)
    if len(instances) != 1:
        wrong(f"{len(instances)} instances of {service}, expected 1: {instances!r}")
    instance = instances[0]
    expected = {
        "ServiceID": service_id,
        "ServiceName": service,
        "ServicePort": 8080,
        "ServiceTags": ["tls", args.name],
        "ServiceMeta": {"client": "python"},
    }
    if {field: instance.get(field) for field in expected} != expected:
        wrong(f"unexpected instance {instance!r}")
    ok(STEP)

    step("health service")
    _, entries = c.health.service(service, passing=True)
    if len(entries) != 1:
        wrong(f"{len(entries)} passing instances of {service}, expected 1: {entries!r}")
    if entries[0]["Service"]["ID"] != service_id:
        wrong(f"unexpected entry {entries[0]!r}")
    checks = {check["CheckID"]: check for check in entries[0]["Checks"]}
    ttl = checks.get(check_id)
    if ttl is None or ttl["Status"] != "passing" or ttl["Output"] != "alive":
        wrong(f"the TTL check is not there, passing with its output: {entries[0]['Checks']!r}")
    ok(STEP)

    step("agent service deregister")
    if c.agent.service.deregister(service_id) is not True:
        wrong("deregister did not answer true")
    _, instances = c.catalog.service(service)
    if instances:
        wrong(f"still {len(instances)} instances after deregistering")
    ok(STEP)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int)
    parser.add_argument("--env", action="store_true")
    parser.add_argument("--x509-strict", action="store_true")
    args = parser.parse_args()
    if args.env == (args.port is not None) or bool(args.cert) != bool(args.key):
        parser.print_usage(sys.stderr)
        sys.exit(3)
    try:
        run(args)
    except (requests.exceptions.RequestException, consul.ConsulException) as error:
        kind = f"{type(error).__module__}.{type(error).__qualname__}"
        print(f"request failed: {STEP}: {kind}: {error}", file=sys.stderr, flush=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
