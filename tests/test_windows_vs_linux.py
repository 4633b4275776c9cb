"""Windows vs Linux episode: exact errnos per failure kind, refused as fast as a
connect, Happy Eyeballs on Linux, over a model of Windows and in curl; and each
finding comes out not held for a system that behaves otherwise."""

from __future__ import annotations

import claimcheck
from claimcheck import check, check_timed, counter_case, refute

from snippets import netns
from snippets.report import NotMeasurable
from snippets.windows_vs_linux import (
    curl_eyeballs,
    errnos,
    fail_fast,
    happy_eyeballs,
    refused,
)


def needs_netns() -> None:
    """Skip with the host's reason; under CI (where it works) fail instead."""
    reason = netns.unavailable()
    if reason:
        claimcheck.unavailable(reason, "CI must run network namespaces")


def test_closed_ports_are_refused_about_as_fast_as_a_connect():
    check_timed(refused)


def family(refused_us, outcomes="ECONNREFUSED", connected_us=40.0):
    return {"refused": {"median_us": refused_us, "outcomes": outcomes},
            "connected": {"median_us": connected_us, "outcomes": "connected"}}


@counter_case("refused-v4-speed", "refused-v6-speed")
def test_a_linux_that_answers_a_closed_port_after_a_2s_retry_breaks_the_speed():
    # a kernel that, like Windows, retries a refused SYN for 2 s before reporting
    slow = {"127.0.0.1": family(2_000_000), "::1": family(2_000_000)}
    refute(refused.claims(slow), "refused-v4-speed", "refused-v6-speed")


@counter_case("refused-v4", "refused-v6")
def test_a_closed_port_that_drops_syns_breaks_the_errno_findings():
    # a host firewall that drops SYNs to closed ports: no RST, the connect times out
    dropped = {"127.0.0.1": family(40.0, "ETIMEDOUT"),
               "::1": family(40.0, "ECONNREFUSED, ETIMEDOUT")}
    refute(refused.claims(dropped), "refused-v4", "refused-v6")


def test_one_exact_errno_per_failure_kind():
    needs_netns()
    try:
        rows = errnos.measure()
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason, "CI must run network namespaces")
    check(errnos.claims(rows))


def linux_rows() -> list:
    """Every attempt as Linux answers it (what the demo measures), made up."""
    want = {kind: expect.bound.value for kind, expect in errnos.ERRNOS.items()}
    return [(kind, ip, sock, outcome, 0.0001) for kind, outcome in want.items()
            for ip in ("INET", "INET6") for sock in ("STREAM", "DGRAM")]


OTHER_ERRNO = {  # a failure kind, what another kernel or host could answer there
    "unreachable": "ENETUNREACH", "prohibit": "EHOSTUNREACH",
    "blackhole": "ENETUNREACH", "throw": "EHOSTUNREACH", "no route": "EHOSTUNREACH",
    "closed port": "timed out", "UDP to a closed port": "timed out",
    "full accept queue": "ECONNREFUSED",
}


@counter_case(*(errnos.ERRNOS[kind].id for kind in OTHER_ERRNO))
def test_other_answers_to_each_failure_break_the_errno_findings():
    # e.g. a kernel that reports a route's type with another errno; a firewall
    # that drops to closed ports (TCP and UDP alike); a host with
    # net.ipv4.tcp_abort_on_overflow=1, which resets a SYN to a full queue
    for kind, other in OTHER_ERRNO.items():
        rows = [r[:3] + (other,) + r[4:] if r[0] == kind else r
                for r in linux_rows()]
        refute(errnos.claims(rows), errnos.ERRNOS[kind].id)


def test_local_failures_come_back_about_as_fast_as_a_connect():
    needs_netns()
    try:
        check_timed(fail_fast)
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason, "CI must run network namespaces")


def speeds(slow: dict[str, float]) -> dict:
    """A fail_fast result where every way of a kind takes the ratio given (0.2x
    otherwise), to a 17 µs connect."""
    ratio = {(kind, fail_fast.name(way)): slow.get(kind, 0.2)
             for kind, (_, ways, _) in fail_fast.KINDS.items() for way in ways}
    return {"base_us": {"IPv4": 17.0, "IPv6": 17.0}, "ratio": ratio, "missed": 0}


@counter_case(*(e.id for e in fail_fast.FAST.values()))
def test_a_kernel_that_waits_before_reporting_a_local_failure_breaks_the_speeds():
    # a stack that, like Windows after a reset, resends the SYN for 2 s before it
    # reports a closed port; a firewall that drops the ICMP port unreachable, so
    # UDP's recv waits out its 1 s timeout; a failure found only after 3 s of
    # neighbour resolution (an on-link address that never answers ARP)
    seconds = {"closed port": 2.0, "UDP to a closed port": 1.0}
    slow = {kind: seconds.get(kind, 3.0) / 17e-6 for kind in fail_fast.KINDS}
    for kind in fail_fast.KINDS:
        refute(fail_fast.claims(speeds({kind: slow[kind]})), fail_fast.FAST[kind].id)


def test_happy_eyeballs_on_linux_and_over_the_model():
    needs_netns()
    try:
        check_timed(happy_eyeballs)
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason, "CI must run network namespaces")


def clients(linux_seq, linux_he, model_seq, model_he) -> dict:
    names = ["Linux, sequential", "Linux, Happy Eyeballs",
             "Windows MODEL, sequential", "Windows MODEL, Happy Eyeballs"]
    times = [linux_seq, linux_he, model_seq, model_he]
    return {n: {"peer": "127.0.0.1", "seconds": t, "spans": []}
            for n, t in zip(names, times, strict=True)}


@counter_case("linux-sequential-fast", "linux-he-fast")
def test_a_linux_that_answers_a_closed_port_after_a_2s_retry_breaks_happy_eyeballs():
    # ::1 refused only after 2 s: sequential waits it out; asyncio's Happy
    # Eyeballs starts IPv4 only when its 250 ms delay ends
    slow = clients(2.001, 0.252, 2.002, 0.252)
    refute(happy_eyeballs.claims(slow), "linux-sequential-fast", "linux-he-fast")


@counter_case("model-he-bounded")
def test_a_client_that_ignores_the_happy_eyeballs_delay_breaks_the_model_finding():
    # an event loop that ignores happy_eyeballs_delay waits out the slow refusal;
    # one that starts both families at once does not wait the delay at all
    for model_he in (2.001, 0.002):
        refute(happy_eyeballs.claims(clients(0.001, 0.001, 2.001, model_he)),
               "model-he-bounded")


def test_curl_waits_only_for_a_silent_ipv6():
    needs_netns()
    try:
        check_timed(curl_eyeballs)
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason, "CI must run network namespaces and curl")


def curl_result(refused_s, silent_s) -> dict:
    return {"::1 refused, timeout 1000 ms": {"peer": "127.0.0.1", "seconds": refused_s},
            "::1 silent, timeout 200 ms": {"peer": "127.0.0.1", "seconds": silent_s}}


@counter_case("curl-refused-fast")
def test_a_linux_that_answers_a_closed_port_after_a_2s_retry_makes_curl_wait():
    # the refusal comes after curl's 1000 ms Happy Eyeballs timeout: curl waits it
    refute(curl_eyeballs.claims(curl_result(1.001, 0.201)), "curl-refused-fast")


@counter_case("curl-silent-waits")
def test_a_kernel_that_resets_a_full_queue_lets_curl_move_on_at_once():
    # net.ipv4.tcp_abort_on_overflow=1: the full ::1 queue answers RST, not silence
    refute(curl_eyeballs.claims(curl_result(0.001, 0.001)), "curl-silent-waits")
