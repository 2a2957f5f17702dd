"""Fixtures that replace py-consul's own root conftest.py.

Upstream starts `consul agent -dev` in a Docker container per test; these fixtures start
`proconsul agent -dev` as a local process on free loopback ports instead, with the same
fixture names and return shapes, and the same readiness check.
"""

from __future__ import annotations

import collections
import os
import socket
import subprocess
import tempfile
import time

import pytest
import requests

ConsulInstance = collections.namedtuple("ConsulInstance", ["container", "port", "version"])

PROCONSUL_BIN = os.environ.get("PROCONSUL_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "target", "debug", "proconsul"
)


@pytest.fixture(scope="session", autouse=True)
def _unset_consul_token():
    os.environ.pop("CONSUL_HTTP_TOKEN", None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Agent:
    """A running `proconsul agent -dev` process."""

    def __init__(self, request):
        self.port = _free_port()
        self.log = tempfile.NamedTemporaryFile(prefix="proconsul-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            [
                PROCONSUL_BIN,
                "agent",
                "-dev",
                "-http-port",
                str(self.port),
                "-server-port",
                str(_free_port()),
                "-log-level",
                "debug",
                # Upstream's agents run with enable_script_checks, as this one does.
                "-enable-script-checks",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self.name = request.node.name
        self._wait_until_ready()

    def logs(self) -> str:
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def _wait_until_ready(self) -> None:
        base = f"http://127.0.0.1:{self.port}/v1/"
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"proconsul exited with {self.process.returncode}:\n{self.logs()}")
            try:
                response = requests.get(base + "status/leader", timeout=2)
                if response.status_code == 200 and response.json():
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            self.stop()
            raise TimeoutError(f"proconsul did not elect a leader:\n{self.logs()}")
        # The same extra check upstream makes before handing the agent to a test.
        requests.put(base + "agent/service/register", json={"name": "test-service"}, timeout=2)
        response = requests.get(base + "health/service/test-service", timeout=2)
        if response.status_code != 200 or not response.json():
            self.stop()
            raise RuntimeError(f"test-service did not show up: {response.status_code} {response.text}")
        requests.put(base + "agent/service/deregister/test-service", timeout=2)

    def version(self) -> str:
        response = requests.get(f"http://127.0.0.1:{self.port}/v1/agent/self", timeout=10)
        return response.json()["Config"]["Version"].strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        os.unlink(self.log.name)


@pytest.fixture
def consul_instance(request):
    agent = Agent(request)
    try:
        yield ConsulInstance(agent, agent.port, agent.version())
    finally:
        agent.stop()


@pytest.fixture
def acl_consul_instance(request):
    pytest.skip("ACLs are not implemented in Proconsul yet")


@pytest.fixture
def consul_port(consul_instance):
    return consul_instance.port, consul_instance.version
