"""The namespace helper: private sysctls and routes, results back, always torn down,
and a clear reason where the host forbids namespaces."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import claimcheck
import pytest

from snippets import netns

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
ROOT = Path(__file__).resolve().parents[1]


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


# What runs inside is a module-level function: a caller with threads (pytest, once
# RocksDB's background threads exist) gets a spawned child, which imports it.
def _listen_and_probe(port: int) -> bool:
    with socket.create_server(("127.0.0.1", port)):
        return True


def _boom() -> None:
    raise ValueError("inside")


def _hang() -> None:
    subprocess.Popen(["sleep", "30"])  # a grandchild must die too
    time.sleep(30)


def _with_a_child() -> int:
    return subprocess.run(["true"], timeout=5, check=False).returncode


@pytest.mark.parametrize("threads", [False, True], ids=["forked", "spawned"])
def test_a_listener_inside_is_invisible_outside(threads):
    needs_netns()
    with socket.socket() as host_side, _busy(threads):
        host_side.bind(("127.0.0.1", 0))  # a port taken on the host is free inside
        host_side.listen()
        assert netns.run(_listen_and_probe, host_side.getsockname()[1]) is True


@contextlib.contextmanager
def _busy(threads: bool):
    """A second thread alive meanwhile, so that run() must not fork."""
    if not threads:
        yield
        return
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, args=(30,))
    helper.start()
    try:
        assert netns._threads() > 1
        yield
    finally:
        stop.set()
        helper.join()


def test_exceptions_come_back_with_their_traceback():
    needs_netns()
    with pytest.raises(netns.ChildFailed, match="ValueError: inside"):
        netns.run(_boom)


def test_a_child_past_its_timeout_is_killed_with_its_group():
    needs_netns()
    before = set(os.listdir("/proc"))
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        netns.run(_hang, timeout=0.5)
    assert time.monotonic() - t0 < 5
    time.sleep(0.2)
    new = set(os.listdir("/proc")) - before
    sleepers = [p for p in new if p.isdigit()
                and Path(f"/proc/{p}/cmdline").exists()
                and Path(f"/proc/{p}/cmdline").read_bytes().startswith(b"sleep\0")]
    assert not sleepers, "a process started inside outlived the namespace"


REFUSING_HOST = """
from snippets import netns
from snippets.report import HostForbids

def refuse():
    raise HostForbids("unshare(network namespace) failed: Operation not permitted")

netns._enter = refuse  # a single-threaded caller: the forked child inherits it
try:
    netns.run(print)
except HostForbids as why:
    print("refused:", why)
"""


def test_a_forbidding_host_gives_the_reason():
    done = subprocess.run([sys.executable, "-c", REFUSING_HOST], capture_output=True,
                          text=True, timeout=60, check=False,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert "refused: unshare(network namespace) failed: Operation not permitted" in (
        done.stdout), done.stderr


def children() -> set[int]:
    kids = set()
    for task in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        kids |= {int(k) for k in task.read_text().split()}
    return kids


def test_nothing_is_left_after_a_run():
    needs_netns()
    before = children()
    assert netns.run(_with_a_child) == 0
    assert children() <= before, "a namespace child outlived run()"
