"""Ephemeral ports episode: exact counts and errnos, each in a private namespace; the
host's range and routes are never touched."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import claimcheck
import pytest

from snippets import netns
from snippets.ephemeral_ports import (
    bind_first,
    defaults,
    exhaustion,
    proxy,
    reuse,
    time_wait,
)

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


@pytest.fixture(autouse=True)
def namespaces_or_skip():
    """Skip with the host's reason; under CI (where it works) fail instead."""
    reason = netns.unavailable()
    if reason:
        claimcheck.unavailable(reason, "CI must run network namespaces")


def host_state() -> tuple[str, str]:
    routes = ""
    if shutil.which("ip"):
        routes = subprocess.run(["ip", "route", "show", "table", "all"],
                                capture_output=True, text=True, timeout=5).stdout
    return RANGE.read_text(), routes


def test_exhaustion_is_exactly_the_range_size_twenty_times_in_twenty():
    before = host_state()
    for _ in range(20):
        r = exhaustion.measure()
        claimcheck.check(exhaustion.claims(r))
        ports, end = r["dests"]["127.0.0.1:5000"]
        assert (len(ports), end) == (4, "EADDRNOTAVAIL")
    assert host_state() == before


def test_the_four_tuple_gives_the_same_ports_to_each_destination():
    r = exhaustion.measure()
    claimcheck.check(exhaustion.claims(r))
    assert [sorted(p) for p, _ in r["dests"].values()] == [list(range(40000, 40004))
                                                           ] * 3


def test_time_wait_stays_with_the_side_that_closes_first():
    r = time_wait.measure()
    claimcheck.check(time_wait.claims(r))
    c, s = r["runs"].values()
    assert (c["time_wait"], c["reconnect"]) == (4, "EADDRNOTAVAIL")
    assert (s["time_wait"], s["reconnect"]) == (0, "ok")


def test_tw_reuse_and_linger():
    r = claimcheck.check_timed(reuse)
    got = {k: (v["time_wait"], v["peer"], v["now"], v["later"])
           for k, v in r["runs"].items()}
    assert list(got.values()) == [(4, "EOF", 0, 0), (4, "EOF", 0, 4),
                                  (0, "ECONNRESET", 4, 0)]


def test_bind_first_burns_ports_and_no_port_restores_them():
    r = bind_first.measure()
    claimcheck.check(bind_first.claims(r))
    w = r["ways"]
    assert [w[k] for k in bind_first.WAYS] == [[4, 4, "EADDRNOTAVAIL"],
                                               [4, 0, "EADDRINUSE"],
                                               [4, 4, "EADDRNOTAVAIL"]]
    assert w["with a listener bound to port 0"][0] == 3


def test_defaults_and_the_time_wait_timer():
    before = host_state()
    r = defaults.measure()
    claimcheck.check(defaults.claims(r))
    assert len(r["inside"]["timers"]) == 4
    assert host_state() == before  # tcp_fin_timeout=5 stayed inside


def test_the_proxy_runs_out_and_the_pool_does_not():
    before = host_state()
    r = proxy.measure()
    claimcheck.check(proxy.claims(r))
    naive, pool = r["runs"].values()
    assert [p for _, p in naive["log"]] == list(range(1, 17)) + [16] * 32
    assert [ok for ok, _ in pool["log"]] == [True] * 48
    assert sorted(naive["replies"]).count("200 OK") == 16
    assert host_state() == before
