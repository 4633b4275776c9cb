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
    linger,
    parity,
    proxy,
    remote,
    reuse,
    time_wait,
)
from snippets.ephemeral_ports._ports import Filled
from snippets.report import NotMeasurable

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


def test_connect_takes_even_ports_first_and_bind_odd_ones(namespaces):
    check(parity.claims(parity.measure()))


def test_time_wait_stays_with_the_side_that_closes_first(namespaces):
    check(time_wait.claims(time_wait.measure()))


def test_tw_reuse_and_linger(namespaces):
    check_timed(reuse)


def test_tw_reuse_2_does_not_reuse_towards_a_peer_over_veth(host_untouched):
    try:
        r = remote.measure()
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason, "CI must make veth pairs in namespaces")
    check(remote.claims(r))


def test_a_reset_throws_away_what_was_not_yet_sent(namespaces):
    check(linger.claims(linger.measure()))


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


@counter_case("connect-even-first", "bind-odd-first")
def test_a_linux_4_5_without_the_strict_split_breaks_the_parity_findings():
    # 4.2 to 4.5: connect() searched on sequentially from an even offset; bind(0)
    # started at a random port of either parity (net/ipv4/inet_hashtables.c and
    # inet_connection_sock.c at v4.5)
    half = parity.HALF
    seq = [40010 + i for i in range(half + 1)]
    r = parity.Picks({"connect()": seq, "bind(0)": [40020 + i for i in range(half + 1)],
                      "connect(), IP_LOCAL_PORT_RANGE set": None})
    refute(parity.claims(r), "connect-even-first", "bind-odd-first")


@counter_case("range-option-mixes")
def test_a_kernel_that_keeps_even_ports_first_with_the_option_breaks_it():
    # what 6.3 to 6.7 do, and what 6.8 would do had commit 207184853dbd not landed
    evens = [40000 + 2 * i for i in range(parity.HALF)] + [40001]
    r = parity.Picks({way: evens for way in parity.WAYS})
    refute(parity.claims(r, release=(6, 8)), "range-option-mixes")


def test_the_option_is_not_checked_on_a_kernel_before_6_8():
    evens = [40000 + 2 * i for i in range(parity.HALF)] + [40001]
    r = parity.Picks({way: evens for way in parity.WAYS})
    option = parity.claims(r, release=(6, 5))[2]
    assert option.held is None and "6.8" in option.reason


@counter_case("veth-no-reuse", "veth-reuse-global")
def test_reuse_that_ignores_where_the_peer_is_breaks_the_veth_findings():
    # a tcp_tw_reuse=2 that also covered other hosts (as 1 does), and a
    # tcp_tw_reuse=1 with TCP timestamps off (no TIME_WAIT socket is reusable)
    r = {"tcp_tw_reuse=2 (default)": remote.Remote(4, 4),
         "tcp_tw_reuse=1": remote.Remote(4, 0)}
    refute(remote.claims(r), "veth-no-reuse", "veth-reuse-global")


@counter_case("close-delivers-all", "linger-drops-unsent")
def test_a_stack_that_flushes_before_the_reset_breaks_the_linger_findings():
    # a close() that gives up on queued data, and a reset sent only after the
    # queue drained
    r = {"close()": linger.Closed(1_000_000, 600_000, "EOF"),
         "SO_LINGER {1,0}, close()": linger.Closed(1_000_000, 1_000_000, "ECONNRESET")}
    refute(linger.claims(r), "close-delivers-all", "linger-drops-unsent")


@counter_case("client-reconnect")
def test_a_kernel_that_reuses_time_wait_ports_at_once_breaks_the_reconnect():
    r = {"client": time_wait.Closed(4, 4, "succeeds"),
         "server": time_wait.Closed(4, 0, "succeeds"),
         "client, tw_buckets=2": time_wait.Closed(4, 2, "succeeds")}
    refute(time_wait.claims(r), "client-reconnect")


@counter_case("tw-buckets-cap", "tw-buckets-reconnect")
def test_a_kernel_that_ignores_tcp_max_tw_buckets_breaks_the_cap():
    full = time_wait.Closed(4, 4, "EADDRNOTAVAIL")
    r = {"client": full,
         "server": time_wait.Closed(4, 0, "succeeds", 4),
         "client, tw_buckets=2": full}
    refute(time_wait.claims(r), "tw-buckets-cap", "tw-buckets-reconnect")


@counter_case("client-time-wait", "server-first-time-wait", "server-first-reconnect")
def test_time_wait_on_the_wrong_side_breaks_who_keeps_it():
    # a client that resets instead of closing keeps no TIME_WAIT; a simultaneous
    # close puts both sides in TIME_WAIT, so the server closing first does not help
    r = {"client": time_wait.Closed(4, 0, "EADDRNOTAVAIL"),
         "server": time_wait.Closed(4, 4, "EADDRNOTAVAIL"),
         "client, tw_buckets=2": time_wait.Closed(4, 2, "succeeds")}
    refute(time_wait.claims(r), "client-time-wait", "server-first-time-wait",
           "server-first-reconnect")


@counter_case("server-keeps-time-wait")
def test_a_server_that_closes_by_reset_keeps_no_time_wait():
    # a server that sets SO_LINGER {1, 0}: neither side waits
    r = {"client": time_wait.Closed(4, 4, "EADDRNOTAVAIL"),
         "server": time_wait.Closed(4, 0, "succeeds", 0),
         "client, tw_buckets=2": time_wait.Closed(4, 2, "succeeds")}
    refute(time_wait.claims(r), "server-keeps-time-wait")


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


def proxy_run(passed: list[bool], ports: list[int],
              after: list[str] | None = None) -> proxy.Run:
    error = f"502 {os.strerror(errno.EADDRNOTAVAIL)}"
    return proxy.Run(["200 OK" if ok else error for ok in passed],
                     [(ok, p, 0) for ok, p in zip(passed, ports)],
                     after if after is not None else ["TIME_WAIT"] * 16)


@counter_case("per-request-passes", "per-request-error", "per-request-time-wait")
def test_a_kernel_that_reuses_time_wait_ports_at_once_never_runs_out():
    # each new connect takes over the one TIME_WAIT port the last one left
    naive = proxy_run([True] * 48, [1] * 48, ["TIME_WAIT"])
    pool = proxy_run([True] * 48, [1, 2, 3, 4] + [4] * 44)
    r = {"new connection per request": naive, "pool": pool}
    refute(proxy.claims(r), "per-request-passes", "per-request-error",
           "per-request-time-wait")


@counter_case("per-request-stays-out", "pool-ports")
def test_ports_freed_after_a_delay_and_a_pool_that_reconnects_break_the_proxy():
    # TIME_WAIT reused after a second: requests pass again after some 502s; a pool
    # whose backend closes each connection, so the pool opens new ones
    naive = proxy_run([True] * 16 + [False] * 8 + [True] * 24, list(range(1, 17))
                      + [16] * 32)
    pool = proxy_run([True] * 48, list(range(1, 17)) + [16] * 32)
    r = {"new connection per request": naive, "pool": pool}
    refute(proxy.claims(r), "per-request-stays-out", "pool-ports")


@counter_case("sockstat-tw", "nstat-tw", "nstat-tw-overflow")
def test_host_wide_counters_and_a_timer_that_counts_at_the_end_break_the_counts():
    # Linux 4.6: sockstat's tw counted the whole host's TIME_WAIT sockets (here 9),
    # one host-wide tcp_max_tw_buckets was never reached by this namespace's four,
    # and TcpExtTW counted a TIME_WAIT when its timer ended it, not when it began
    # (net/ipv4/proc.c and tw_timer_handler in inet_timewait_sock.c at v4.6)
    r = {"client": time_wait.Closed(4, 4, "EADDRNOTAVAIL", 0, 9, (0, 0)),
         "server": time_wait.Closed(4, 0, "succeeds", 4, 9, (0, 0)),
         "client, tw_buckets=2": time_wait.Closed(4, 2, "succeeds", 0, 9, (0, 0))}
    refute(time_wait.claims(r), "sockstat-tw", "nstat-tw", "nstat-tw-overflow")


@counter_case("nstat-tw-recycled")
def test_reuse_that_kills_time_wait_sockets_uncounted_breaks_the_recycled_count():
    # a stack that frees the TIME_WAIT port on reuse without counting it
    r = {"tcp_tw_reuse=0": reuse.Reuse(4, "EOF", 0, 0, 0),
         "tcp_tw_reuse=2 (default)": reuse.Reuse(4, "EOF", 0, 4, 0),
         "SO_LINGER {1,0}": reuse.Reuse(0, "ECONNRESET", 4, 0, 0)}
    refute(reuse.claims(r), "nstat-tw-recycled")
