"""Ephemeral ports episode: exact counts and errnos, each in a private namespace; the
host's range and routes are never touched. The counter-cases feed each demo's
claims a result from a kernel or stack that behaves otherwise."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import claimcheck
import pytest
from claimcheck import check, check_timed, counter_case, refute

from snippets import netns
from snippets.ephemeral_ports import (
    bind_first,
    defaults,
    exhaustion,
    proxy,
    reuse,
    time_wait,
)
from snippets.ephemeral_ports._ports import Filled

RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
FOUR = list(range(40000, 40004))


@pytest.fixture
def namespaces():
    """Skip with the host's reason; under CI (where it works) fail instead."""
    reason = netns.unavailable()
    if reason:
        claimcheck.unavailable(reason, "CI must run network namespaces")


@pytest.fixture
def host_untouched(namespaces):
    """The host's port range and routes are the same after the test."""
    def state() -> tuple[str, str]:
        routes = ""
        if shutil.which("ip"):
            routes = subprocess.run(["ip", "route", "show", "table", "all"],
                                    capture_output=True, text=True, timeout=5,
                                    check=False).stdout
        return RANGE.read_text(), routes
    before = state()
    yield
    assert state() == before


# -- the demos, measured here -------------------------------------------------------


def test_exhaustion_is_exactly_the_range_size_twenty_times_in_twenty(host_untouched):
    for _ in range(20):  # an odd-sized range gave 4 or 5 at random: exact every time
        check(exhaustion.claims(exhaustion.measure()))


def test_time_wait_stays_with_the_side_that_closes_first(namespaces):
    check(time_wait.claims(time_wait.measure()))


def test_tw_reuse_and_linger(namespaces):
    check_timed(reuse)


def test_bind_first_burns_ports_and_no_port_restores_them(namespaces):
    check(bind_first.claims(bind_first.measure()))


def test_defaults_and_the_time_wait_timer(host_untouched):
    check(defaults.claims(defaults.measure()))  # tcp_fin_timeout=5 stayed inside


def test_the_proxy_runs_out_and_the_pool_does_not(host_untouched):
    check(proxy.claims(proxy.measure()))


# -- counter-cases: systems that behave otherwise -----------------------------------


@counter_case("range-connects")
def test_a_kernel_whose_range_gives_five_connects_breaks_the_exact_count():
    # an odd-sized range, or a kernel that hands out one port more than the range
    five = Filled([*FOUR, 40004], "EADDRNOTAVAIL")
    r = {"127.0.0.1:5000": five, "127.0.0.1:5001": five, "127.0.0.2:5000": five}
    refute(exhaustion.claims(r), "range-connects")


@counter_case("exhausted-errno", "four-tuple")
def test_ports_unique_per_host_break_the_four_tuple():
    # a stack that never reuses a source port for another destination, and says
    # "no buffer space" when it runs out
    r = {"127.0.0.1:5000": Filled(FOUR, "ENOBUFS"),
         "127.0.0.1:5001": Filled([], "ENOBUFS"),
         "127.0.0.2:5000": Filled([], "ENOBUFS")}
    refute(exhaustion.claims(r), "exhausted-errno", "four-tuple")


@counter_case("client-reconnect")
def test_a_kernel_that_reuses_time_wait_ports_at_once_breaks_the_reconnect():
    r = {"client closes first": time_wait.Closed(4, 4, "succeeds"),
         "server closes first": time_wait.Closed(4, 0, "succeeds")}
    refute(time_wait.claims(r), "client-reconnect")


@counter_case("client-time-wait", "server-first-time-wait", "server-first-reconnect")
def test_time_wait_on_the_wrong_side_breaks_who_keeps_it():
    # a client that resets instead of closing keeps no TIME_WAIT; a simultaneous
    # close puts both sides in TIME_WAIT, so the server closing first does not help
    r = {"client closes first": time_wait.Closed(4, 0, "EADDRNOTAVAIL"),
         "server closes first": time_wait.Closed(4, 4, "EADDRNOTAVAIL")}
    refute(time_wait.claims(r), "client-time-wait", "server-first-time-wait",
           "server-first-reconnect")


@counter_case("no-reuse-later", "reuse-at-once", "linger-no-time-wait",
              "linger-peer-reset")
def test_a_kernel_that_reuses_time_wait_ports_at_once_breaks_the_reuse_findings():
    # reuse regardless of tcp_tw_reuse and of the delay; a linger {1,0} that still
    # closes with a FIN (TIME_WAIT, an orderly end for the peer)
    r = {"tcp_tw_reuse=0": reuse.Reuse(4, "EOF", 4, 0),
         "tcp_tw_reuse=2 (default)": reuse.Reuse(4, "EOF", 4, 0),
         "SO_LINGER {1,0}": reuse.Reuse(4, "EOF", 4, 0)}
    refute(reuse.claims(r), "no-reuse-later", "reuse-at-once", "linger-no-time-wait",
           "linger-peer-reset")


@counter_case("reuse-after-delay", "linger-free-at-once")
def test_a_kernel_without_loopback_reuse_breaks_the_ways_out():
    # a kernel whose tcp_tw_reuse=2 does not cover loopback (2 once meant nothing);
    # a reset that leaves the ports held until the peer's ACK
    r = {"tcp_tw_reuse=0": reuse.Reuse(4, "EOF", 0, 0),
         "tcp_tw_reuse=2 (default)": reuse.Reuse(4, "EOF", 0, 0),
         "SO_LINGER {1,0}": reuse.Reuse(0, "ECONNRESET", 0, 4)}
    refute(reuse.claims(r), "reuse-after-delay", "linger-free-at-once")


@counter_case("bind-first-burns", "bind-first-errno", "no-port-per-destination",
              "listener-takes-one")
def test_a_kernel_that_picks_ports_differently_breaks_the_bind_findings():
    # bind(0) that already waits for the destination (so it fails at connect with
    # EADDRNOTAVAIL); IP_BIND_ADDRESS_NO_PORT unknown to an older kernel; a port-0
    # listener given a port outside the range
    r = bind_first.PerDestination({
        "connect() alone": (4, 4, "EADDRNOTAVAIL"),
        "bind(0), then connect()": (4, 4, "EADDRNOTAVAIL"),
        "bind(0) + IP_BIND_ADDRESS_NO_PORT": (4, 0, "EADDRINUSE")}, with_listener=4)
    refute(bind_first.claims(r), "bind-first-burns", "bind-first-errno",
           "no-port-per-destination", "listener-takes-one")


@counter_case("default-range", "default-tw-reuse", "time-wait-left")
def test_an_older_kernel_breaks_the_defaults():
    # older kernels ended the range at 61000 and had tcp_tw_reuse off (0); a
    # TIME_WAIT that followed tcp_fin_timeout would read 5 s at most
    old = {"net.ipv4.ip_local_port_range": "32768 61000", "net.ipv4.tcp_tw_reuse": "0",
           "net.ipv4.tcp_tw_reuse_delay": "-", "net.ipv4.tcp_fin_timeout": "60"}
    refute(defaults.claims(defaults.Fresh(old, [4.9] * 4)), "default-range",
           "default-tw-reuse", "time-wait-left")


def proxy_run(passed: list[bool], ports: list[int]) -> proxy.Run:
    error = f"502 {os.strerror(errno.EADDRNOTAVAIL)}"
    return proxy.Run(["200 OK" if ok else error for ok in passed],
                     list(zip(passed, ports)))


@counter_case("per-request-passes", "per-request-error")
def test_a_kernel_that_reuses_time_wait_ports_at_once_never_runs_out():
    naive = proxy_run([True] * 48, [1] * 48)
    pool = proxy_run([True] * 48, [1, 2, 3, 4] + [4] * 44)
    r = {"new connection per request": naive, "pool": pool}
    refute(proxy.claims(r), "per-request-passes", "per-request-error")


@counter_case("per-request-stays-out", "pool-ports")
def test_ports_freed_after_a_delay_and_a_pool_that_reconnects_break_the_proxy():
    # TIME_WAIT reused after a second: requests pass again after some 502s; a pool
    # whose backend closes each connection, so the pool opens new ones
    naive = proxy_run([True] * 16 + [False] * 8 + [True] * 24, list(range(1, 17))
                      + [16] * 32)
    pool = proxy_run([True] * 48, list(range(1, 17)) + [16] * 32)
    r = {"new connection per request": naive, "pool": pool}
    refute(proxy.claims(r), "per-request-stays-out", "pool-ports")
