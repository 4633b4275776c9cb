"""The zero-copy receive episode: the kernel probe, the copies counted on loopback
and the userspace analogue hold here; each finding fails for a system that behaves
otherwise."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import pytest
from claimcheck import check, check_timed, counter_case, refute, unavailable

from snippets.report import HostForbids, NotMeasurable
from snippets.zero_copy_receive import _uring, analogue, copies, probe, traced

E = errno
P = probe
# as on 6.18: no DEFER_TASKRUN, no CQE32, no SINGLE_ISSUER (at setup), missing
# ifindex, the same with CQE_MIXED, lo
FINE = (E.EINVAL, E.EINVAL, -E.EINVAL, E.ENODEV, E.ENODEV, E.EOPNOTSUPP)


def children() -> set[int]:
    return {int(pid) for task in Path("/proc/self/task").glob("*/children")
            for pid in task.read_text().split()}


def fake(asks=FINE, version=(6, 18), admin=True, userns=(E.EPERM, E.EPERM),
         **changed) -> dict:
    answers = dict(zip(P.ASKS, asks)) | {getattr(P, k): v for k, v in changed.items()}
    return {"release": ".".join(map(str, version)), "version": version,
            "io_uring_disabled": "0", "net_admin": admin, "asks": answers,
            "in a user namespace": userns if isinstance(userns, Exception) else
            dict(zip([P.LO, P.PLAIN], userns))}


def verdicts(claims) -> dict[str, str]:
    return {c.id: c.verdict.word for c in claims}


def test_the_probe_gets_the_errno_of_each_check_on_this_kernel():
    before = children()
    result = probe.measure()
    assert children() == before  # the user-namespace child was reaped
    check(probe.claims(result))  # skips where io_uring or ZCRX is absent


@counter_case("lo-refused")
def test_a_kernel_that_accepts_zcrx_on_lo_breaks_the_probe():
    refute(probe.claims(fake(LO=0)), "lo-refused")


@counter_case("zcrx-built-in")
def test_a_kernel_that_checks_the_area_before_the_device_breaks_the_probe():
    refute(probe.claims(fake(MISSING=E.EINVAL, LO=E.EINVAL)), "zcrx-built-in")


@counter_case("defer-required")
def test_a_kernel_that_needs_no_defer_taskrun_breaks_the_probe():
    refute(probe.claims(fake(NO_DT=E.EOPNOTSUPP)), "defer-required")


@counter_case("big-cqe-required")
def test_a_kernel_that_takes_16_byte_completions_breaks_the_probe():
    refute(probe.claims(fake(NO_CQE=E.EOPNOTSUPP)), "big-cqe-required")


@counter_case("single-issuer-required")
def test_a_kernel_that_allows_defer_taskrun_alone_breaks_the_probe():
    refute(probe.claims(fake(NO_SI=E.EOPNOTSUPP)), "single-issuer-required")


@counter_case("cqe-mixed-accepted")
def test_a_kernel_that_checks_only_cqe32_breaks_the_probe():
    # a ring setup that knows CQE_MIXED, and a register call that still wants CQE32
    # (as it did before "io_uring/zcrx: add support for IORING_SETUP_CQE_MIXED")
    refute(probe.claims(fake(MIXED=E.EINVAL)), "cqe-mixed-accepted")


@counter_case("capability-first")
def test_a_kernel_that_checks_flags_before_the_capability_breaks_the_probe():
    refute(probe.claims(fake(userns=(E.EPERM, E.EINVAL))), "capability-first")
    refute(probe.claims(fake(userns=(0, E.EINVAL))), "capability-first")
    no_admin = (E.EINVAL, E.EPERM, -E.EINVAL, E.EPERM, E.EPERM, E.EPERM)
    refute(probe.claims(fake(no_admin, admin=False)), "capability-first")


ALL = ["held"] * 7


@pytest.mark.parametrize("result, expected", [
    (fake(), ALL),
    (fake(userns=HostForbids("unshare(CLONE_NEWUSER): EPERM")), ALL[:6] + ["?"]),
    (fake(userns=(-E.EPERM, -E.EPERM)), ALL[:6] + ["?"]),  # no ring in it
    (fake(MIXED=-E.EINVAL), ALL[:3] + ["?"] + ALL[4:]),  # setup knows no CQE_MIXED
    (fake((E.EPERM, E.EPERM, -E.EINVAL, E.EPERM, E.EPERM, E.EPERM), admin=False),
     ["?", "?", "held", "?", "?", "?", "held"]),  # no CAP_NET_ADMIN
    (fake((E.EINVAL,) * 6, version=(6, 8)), ["?"] * 7),  # before 6.15
    (fake((E.EOPNOTSUPP,) * 6), ["?"] * 7),  # built without CONFIG_IO_URING_ZCRX
    (fake((-E.EPERM,) * 6), ["?"] * 7),  # io_uring_disabled: setup refused
])
def test_what_the_probe_cannot_ask_here_is_not_checked(result, expected):
    words = [{"not checked here": "?"}.get(v, v)
             for v in verdicts(probe.claims(result)).values()]
    assert words == expected


def test_the_ctypes_ring_receives_like_recv_into():
    a, b = socket.socketpair()
    with a, b, _uring.Ring() as ring:
        b.sendall(b"where the data is")
        b.close()
        buf = bytearray(64)
        assert ring.recv_into(a.fileno(), buf) == 17
        assert buf[:17] == b"where the data is"
        assert ring.recv_into(a.fileno(), buf) == 0
        assert ring.enters == 2


def test_copies_on_loopback_and_what_the_copy_costs():
    check_timed(copies)


def copies_result(cpu: dict[str, float], intact: int = copies.SIZE) -> dict:
    rounds = copies.SIZE // copies.EACH
    return {way: copies.Way(calls=rounds * 3, total=copies.SIZE,
                            intact=intact if way in copies.COPYING else 0,
                            cpu=[seconds] * rounds)
            for way, seconds in cpu.items()}


COSTS = {"sendall + recv": 1.0, "sendall + recv_into": 1.0,
         "sendall + io_uring recv": 1.4, "sendall + splice": 0.3,
         "sendfile + splice": 0.6}  # relative CPU time, as measured here


def test_the_measured_costs_hold_and_a_lost_byte_fails_the_check():
    assert not [c for c in copies.claims(copies_result(COSTS)) if not c.held]
    broken = verdicts(copies.claims(copies_result(COSTS, intact=0)))
    assert broken["in-user-memory"] == "not held"


@counter_case("splice-cpu", "io-uring-cpu")
def test_a_splice_that_copies_and_a_ring_that_does_not_break_the_cost_findings():
    # splice from linear socket buffers copies them into new pages; a ring receive
    # that placed data without a copy would cost about what splice does
    swapped = dict(COSTS, **{"sendall + splice": 0.95, "sendall + io_uring recv": 0.4})
    refute(copies.claims(copies_result(swapped)), "splice-cpu", "io-uring-cpu")


def test_the_analogue_sends_descriptors_not_data():
    before = children()
    try:
        result = analogue.measure()
    except NotMeasurable as why:
        unavailable(why.reason)
    assert children() == before  # both producers were reaped
    check(analogue.claims(result))


def test_the_kernel_counts_this_threads_reads_and_writes():
    r, w = os.pipe()
    try:
        before, own = analogue.counters()
        os.write(w, bytes(1000))
        os.read(r, 600)
        after, _ = analogue.counters()
    finally:
        os.close(r)
        os.close(w)
    assert after - before - own == 1600


def test_a_tracer_counts_the_same_receive_calls():
    try:
        rows = traced.measure()
    except NotMeasurable as why:
        unavailable(why.reason)  # CI installs python-ptrace from the lock
    check(traced.claims(rows))
