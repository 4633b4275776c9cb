"""Windows vs Linux episode: exact errnos per failure kind, refused as fast as a
connect, Happy Eyeballs orderings (asyncio, curl, the Windows model)."""

from __future__ import annotations

import shutil

import claimcheck

from snippets import netns
from snippets.windows_vs_linux import curl_eyeballs, errnos, happy_eyeballs, refused


def needs_netns() -> None:
    """Skip with the host's reason; under CI (where it works) fail instead."""
    reason = netns.unavailable()
    if reason:
        claimcheck.unavailable(reason, "CI must run network namespaces")


def test_closed_ports_are_refused_about_as_fast_as_a_connect():
    r = claimcheck.check_timed(refused)
    assert r["127.0.0.1"]["refused"]["outcomes"] == ["ECONNREFUSED"]


def test_one_exact_errno_per_failure_kind():
    needs_netns()
    r = errnos.measure()
    claimcheck.check([c for c in errnos.claims(r) if not c.timing])
    got = {(kind, ip, sock): outcome for kind, ip, sock, outcome, _ in r["rows"]}
    assert got[("unreachable", "INET", "STREAM")] == "EHOSTUNREACH"
    assert got[("prohibit", "INET6", "DGRAM")] == "EACCES"
    assert got[("blackhole", "INET", "STREAM")] == "EINVAL"
    assert got[("throw", "INET6", "STREAM")] == "ENETUNREACH"
    assert got[("UDP to a closed port", "INET6", "DGRAM")] == "ECONNREFUSED"
    assert len(r["rows"]) == 5 * 4 + 2 * 2 + 1


def test_the_silent_drop_waits_for_the_timeout():
    needs_netns()
    r = claimcheck.check_timed(errnos)
    drop = [x for x in r["rows"] if x[0] == "full accept queue"][0]
    assert drop[3] == "timed out" and drop[4] >= errnos.WAIT


def test_happy_eyeballs_orderings():
    needs_netns()
    r = claimcheck.check_timed(happy_eyeballs)["result"]
    assert r["Windows MODEL, sequential"]["seconds"] > \
        r["Windows MODEL, Happy Eyeballs"]["seconds"] > \
        r["Linux, Happy Eyeballs"]["seconds"]
    outcomes = [o for _, _, _, o in r["Linux, sequential"]["spans"]]
    assert outcomes == ["refused", "connected"]
    model = [o for _, _, _, o in r["Windows MODEL, Happy Eyeballs"]["spans"]]
    assert model == ["abandoned", "connected"]


def test_curl_waits_only_for_a_silent_ipv6():
    needs_netns()
    if not shutil.which("curl"):
        claimcheck.unavailable("curl is not installed: apt-get install curl")
    r = claimcheck.check_timed(curl_eyeballs)["result"]
    refused, silent = r.values()
    assert refused["peer"] == silent["peer"] == "127.0.0.1"
    assert refused["seconds"] < silent["seconds"]
