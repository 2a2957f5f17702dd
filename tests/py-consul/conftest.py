"""Fixtures that replace py-consul 1.8.0's own root conftest.py.

Upstream starts `consul agent -dev` in a Docker container per test, parametrized over
three Consul versions. These fixtures start one `proconsul agent -dev` process per test on
free loopback ports instead, keep upstream's fixture names and return shapes, and make the
same readiness checks:

- `consul_instance` -> ConsulInstance(container, port, version) namedtuple (upstream's
  `container` slot holds our Agent object; no in-scope test reads it);
- `consul_port` -> (port, version) tuple;
- `acl_consul_instance` -> (ConsulInstance, master_token), as upstream yields it: an agent
  started with upstream's ACL configuration (`primary_datacenter`, `acl.enabled`,
  `acl.tokens.initial_management` = a fresh `uuid4().hex`, default policy `allow`).

`tests/conftest.py` (upstream's, kept as is) builds `consul_obj` and `acl_consul` on top.

Also here, because pytest's own `--deselect` matches node-id *prefixes* (deselecting
`test_agent_checks` would silently drop `test_agent_checks_service_id` too), is the exact
deselection of the tests listed in known-failures.txt: `--known-failures FILE`.

The agent binary comes from $PROCONSUL_BIN (run.sh sets it). A failing test's agent log
is kept in $PROCONSUL_LOG_DIR (run.sh: target/py-consul/logs/<test>.log).
"""

from __future__ import annotations

import collections
import http.server
import json
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest
import requests

ConsulInstance = collections.namedtuple("ConsulInstance", ["container", "port", "version"])

READY_TIMEOUT = float(os.environ.get("PROCONSUL_READY_TIMEOUT", "20"))
LOG_DIR = os.environ.get("PROCONSUL_LOG_DIR")
NODE_NAME = "py-consul-agent"


def pytest_addoption(parser):
    parser.addoption(
        "--known-failures",
        metavar="FILE",
        help="deselect the exact node ids listed in FILE (one per line, '# reason' comments)",
    )


def _read_known_failures(path: str) -> dict[str, str]:
    ids = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            node_id, _, reason = line.partition("#")
            node_id = node_id.strip()
            if node_id:
                ids[node_id] = reason.strip()
    return ids


def pytest_collection_modifyitems(config, items):
    path = config.getoption("--known-failures")
    if not path:
        return
    known = _read_known_failures(path)
    collected = {item.nodeid for item in items}
    # Only complain about ids in files that were actually collected, so running a single
    # file by hand still works.
    collected_files = {nodeid.split("::", 1)[0] for nodeid in collected}
    stale = [i for i in known if i.split("::", 1)[0] in collected_files and i not in collected]
    if stale:
        raise pytest.UsageError(f"{path} lists tests that do not exist: {stale}")
    selected = [item for item in items if item.nodeid not in known]
    deselected = [item for item in items if item.nodeid in known]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_report_{report.when}", report)


@pytest.fixture(scope="session", autouse=True)
def _unset_consul_token():
    os.environ.pop("CONSUL_HTTP_TOKEN", None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A running `proconsul agent -dev` process on free loopback ports."""

    def __init__(self, request, config: dict | None = None):
        binary = os.environ.get("PROCONSUL_BIN")
        if not binary:
            raise RuntimeError("PROCONSUL_BIN is not set: run tests/py-consul/run.sh")
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            raise RuntimeError(f"PROCONSUL_BIN={binary} is not an executable file")
        self.test_name = request.node.name
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="proconsul-", suffix=".log", delete=False)
        # Upstream passes its configuration as CONSUL_LOCAL_CONFIG; here it is a file.
        self.config_file = None
        if config is not None:
            self.config_file = tempfile.NamedTemporaryFile(
                "w", prefix="proconsul-", suffix=".json", delete=False
            )
            json.dump(config, self.config_file)
            self.config_file.close()
        self.command = [
            binary,
            "agent",
            "-dev",
            "-http-port",
            str(self.port),
            # Each agent gets its own Raft port too, so a slow shutdown of the previous
            # test's agent cannot collide with this one on the default 8300.
            "-server-port",
            str(_free_port()),
            "-node",
            NODE_NAME,
            "-log-level",
            "debug",
            # Upstream's agents run with enable_script_checks (test_agent_checks needs it).
            "-enable-script-checks",
        ]
        if self.config_file is not None:
            self.command += ["-config-file", self.config_file.name]
        self.process = subprocess.Popen(
            self.command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop(keep_log=True)
            raise

    def logs(self) -> str:
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def _fail(self, message: str):
        raise RuntimeError(
            f"{message}\ncommand: {' '.join(self.command)}\n--- proconsul output ---\n{self.logs()}"
        )

    def _wait_until_ready(self) -> None:
        base = f"http://127.0.0.1:{self.port}/v1/"
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no answer yet"
        # Upstream: poll /v1/status/leader until it is non-empty.
        while True:
            if self.process.poll() is not None:
                self._fail(f"proconsul exited with status {self.process.returncode} before it was ready")
            try:
                response = requests.get(base + "status/leader", timeout=2)
                last = f"{response.status_code} {response.text!r}"
                if response.status_code == 200 and response.json():
                    break
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                self._fail(f"/v1/status/leader was not non-empty within {READY_TIMEOUT}s (last: {last})")
            time.sleep(0.05)
        # Upstream's extra check: a registered `test-service` shows in /v1/health/service.
        while True:
            if self.process.poll() is not None:
                self._fail(f"proconsul exited with status {self.process.returncode} before it was ready")
            try:
                requests.put(base + "agent/service/register", json={"name": "test-service"}, timeout=2)
                response = requests.get(base + "health/service/test-service", timeout=2)
                last = f"{response.status_code} {response.text!r}"
                if response.status_code == 200 and response.json():
                    requests.put(base + "agent/service/deregister/test-service", timeout=2)
                    return
            except (requests.RequestException, ValueError) as e:
                last = repr(e)
            if time.monotonic() > deadline:
                self._fail(f"test-service did not show in /v1/health/service/test-service (last: {last})")
            time.sleep(0.1)

    def version(self) -> str:
        response = requests.get(f"http://127.0.0.1:{self.port}/v1/agent/self", timeout=10)
        return response.json()["Config"]["Version"].strip()

    def stop(self, keep_log: bool = False) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        if self.config_file is not None:
            os.unlink(self.config_file.name)
        if keep_log and LOG_DIR:
            os.makedirs(LOG_DIR, exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.test_name)
            os.replace(self.log.name, os.path.join(LOG_DIR, f"{safe}.log"))
        else:
            os.unlink(self.log.name)


def _failed(request) -> bool:
    return any(
        getattr(request.node, f"_report_{when}", None) is not None
        and getattr(request.node, f"_report_{when}").failed
        for when in ("setup", "call")
    )


@pytest.fixture
def consul_instance(request):
    agent = Agent(request)
    try:
        yield ConsulInstance(agent, agent.port, agent.version())
    finally:
        agent.stop(keep_log=_failed(request))


@pytest.fixture
def acl_consul_instance(request):
    master_token = uuid.uuid4().hex
    config = {
        "primary_datacenter": "dc1",
        "acl": {"enabled": True, "tokens": {"initial_management": master_token}},
    }
    agent = Agent(request, config)
    try:
        yield ConsulInstance(agent, agent.port, agent.version()), master_token
    finally:
        agent.stop(keep_log=_failed(request))


@pytest.fixture
def consul_port(consul_instance):
    return consul_instance.port, consul_instance.version


# Upstream's test_agent_checks and test_service_multi_check register HTTP checks against
# http://localhost:8500 / http://127.0.0.1:8500 and expect them to turn passing. Inside
# upstream's container that address is the Consul agent itself (its UI answers 200). Our
# agents run on free ports, so for those two tests we stand up the same thing upstream
# has there: an HTTP server answering 200 on 127.0.0.1:8500. The agent's HTTP check
# executor still has to run the checks for real.
_NEEDS_PORT_8500 = {"test_agent_checks", "test_service_multi_check"}


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _V6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture(autouse=True)
def _upstream_port_8500(request):
    if request.node.originalname not in _NEEDS_PORT_8500:
        yield
        return
    servers = []
    try:
        try:
            servers.append(http.server.ThreadingHTTPServer(("127.0.0.1", 8500), _Ok))
        except OSError as e:
            pytest.skip(f"needs 127.0.0.1:8500 free for upstream's fixed HTTP check target: {e}")
        try:  # `localhost` may resolve to ::1 first
            servers.append(_V6Server(("::1", 8500), _Ok))
        except OSError:
            pass
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        yield
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
