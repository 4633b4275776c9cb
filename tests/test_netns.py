"""The namespace helper: private sysctls and routes, results back, always torn down,
and a clear reason where the host forbids namespaces."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import claimcheck
import pytest

from snippets import netns
from snippets.report import HostForbids

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def needs_netns() -> None:
    """Skip with the host's reason; under CI (where it works) fail instead."""
    reason = netns.unavailable()
    if reason:
        claimcheck.unavailable(reason, "CI must run network namespaces")


def host_routes() -> str:
    if not shutil.which("ip"):
        return ""
    out = subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True,
                         text=True, timeout=5).stdout
    out6 = subprocess.run(["ip", "-6", "route", "show", "table", "all"],
                          capture_output=True, text=True, timeout=5).stdout
    return out + out6


def inside() -> dict:
    with socket.create_server(("127.0.0.1", 5000)) as srv, \
            socket.create_connection(("127.0.0.1", 5000), timeout=2) as c:
        port = c.getsockname()[1]
    return {"range": netns.sysctl("net.ipv4.ip_local_port_range"), "port": port,
            "routes": netns.ip("route", "show")}


def test_sysctls_and_routes_are_the_namespace_own():
    needs_netns()
    if not shutil.which("ip"):
        pytest.fail("iproute2 is needed: apt-get install iproute2")
    before = (RANGE.read_text(), host_routes())
    got = netns.run(inside, sysctls={"net.ipv4.ip_local_port_range": "40000 40001"},
                    routes=["route add unreachable 10.99.0.1"])
    assert got["range"].split() == ["40000", "40001"]
    assert got["port"] in (40000, 40001)  # loopback is up and the range applies
    assert "unreachable 10.99.0.1" in got["routes"]
    assert (RANGE.read_text(), host_routes()) == before  # the host is untouched
    assert "10.99.0.1" not in before[1]


def test_a_listener_inside_is_invisible_outside():
    needs_netns()

    def listen_and_probe(port: int) -> bool:
        with socket.create_server(("127.0.0.1", port)):
            return True

    with socket.socket() as host_side:  # a port taken on the host is free inside
        host_side.bind(("127.0.0.1", 0))
        host_side.listen()
        assert netns.run(listen_and_probe, host_side.getsockname()[1]) is True


def test_exceptions_come_back_with_their_traceback():
    needs_netns()

    def boom() -> None:
        raise ValueError("inside")

    with pytest.raises(netns.ChildFailed, match="ValueError: inside"):
        netns.run(boom)


def test_a_child_past_its_timeout_is_killed_with_its_group():
    needs_netns()

    def hang() -> None:
        subprocess.Popen(["sleep", "30"])  # a grandchild must die too
        time.sleep(30)

    before = set(os.listdir("/proc"))
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        netns.run(hang, timeout=0.5)
    assert time.monotonic() - t0 < 5
    time.sleep(0.2)
    new = set(os.listdir("/proc")) - before
    sleepers = [p for p in new if p.isdigit()
                and Path(f"/proc/{p}/cmdline").exists()
                and Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep\0")]
    assert not sleepers, "a process started inside outlived the namespace"


def _refuse() -> None:
    raise HostForbids("unshare(network namespace) failed: Operation not permitted")


def _one() -> int:
    return 1


def test_a_forbidding_host_gives_the_reason(monkeypatch):
    if netns._threads() > 1:  # a spawned child would not inherit the patch
        pytest.skip("this test process runs threads: the namespace child is spawned")
    monkeypatch.setattr(netns, "_enter", _refuse)  # the forked child inherits it
    with pytest.raises(HostForbids, match="Operation not permitted"):
        netns.run(_one)


def children() -> set[int]:
    kids = set()
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        kids |= {int(k) for k in task.read_text().split()}
    return kids


def test_nothing_is_left_after_a_run():
    needs_netns()
    before = children()

    def with_a_child() -> int:
        return subprocess.run(["true"], timeout=5).returncode

    assert netns.run(with_a_child) == 0
    assert children() <= before, "a namespace child outlived run()"
