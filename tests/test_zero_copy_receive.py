"""The zero-copy receive episode: the kernel probe, the copies counted on loopback
and the userspace analogue hold here; the probe's claims follow the kernel."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

import pytest

from snippets import syscalls
from snippets.report import failed, unchecked
from snippets.zero_copy_receive import _uring, analogue, copies, probe, traced
from tests import claimcheck

MIB64 = 64 << 20


def children() -> set[int]:
    return {int(pid) for task in Path("/proc/self/task").glob("*/children")
            for pid in task.read_text().split()}


def test_the_probe_gets_the_errno_of_each_check_on_this_kernel():
    before = children()
    result = probe.measure()
    assert children() == before  # the user-namespace child was reaped
    claimcheck.check(probe.claims(result))  # skips where io_uring or ZCRX is absent
    if result["version"] < (6, 15) or not result["net_admin"]:
        return  # the claims above are about that kernel, or about EPERM
    asks = result["asks"]
    assert asks == {"ring without DEFER_TASKRUN/CQE32, lo": errno.EINVAL,
                    "zero-copy ring, missing ifindex": errno.ENODEV,
                    "zero-copy ring, lo": errno.EOPNOTSUPP}
    userns = list(result["in a user namespace"].values())
    if any(isinstance(v, str) for v in userns):
        pytest.skip(f"no user namespace here: {userns}")
    assert userns == [errno.EPERM, errno.EPERM]  # before the flags are looked at


def fake(asks: tuple[int, int, int], version=(6, 18), admin=True, userns=1) -> dict:
    names = ["ring without DEFER_TASKRUN/CQE32, lo", "zero-copy ring, missing ifindex",
             "zero-copy ring, lo"]
    return {"release": ".".join(map(str, version)), "version": version,
            "io_uring_disabled": "0", "net_admin": admin,
            "asks": dict(zip(names, asks)),
            "in a user namespace": {"zero-copy ring, lo": userns,
                                    "ring without DEFER_TASKRUN/CQE32, lo": userns}}


E = errno


@pytest.mark.parametrize("result, verdict", [
    (fake((E.EINVAL, E.ENODEV, E.EOPNOTSUPP)), "held"),
    (fake((E.EINVAL, E.ENODEV, 0)), "not held"),  # lo accepted: claim breaks
    (fake((E.EINVAL, E.ENODEV, E.EOPNOTSUPP), userns=0), "not held"),
    (fake((E.EINVAL, E.ENODEV, E.EOPNOTSUPP), userns=E.EINVAL), "not held"),
    (fake((E.EINVAL, E.ENODEV, E.EOPNOTSUPP), userns="unshare: EPERM"), "partly"),
    (fake((E.EINVAL,) * 3, version=(6, 8)), "held"),  # before 6.15: opcode unknown
    (fake((E.EINVAL, E.ENODEV, E.EOPNOTSUPP), version=(6, 8)), "not held"),
    (fake((E.EPERM,) * 3, admin=False), "held"),  # no CAP_NET_ADMIN
    (fake((E.EOPNOTSUPP,) * 3), "unchecked"),  # built without CONFIG_IO_URING_ZCRX
    (fake((-E.EPERM,) * 3), "unchecked"),  # io_uring_disabled: setup refused
])
def test_probe_claims_follow_the_kernel(result, verdict):
    claims = probe.claims(result)
    got = ("not held" if failed(claims) else "unchecked" if all(
        c.held is None for c in claims) else "partly" if unchecked(claims) else "held")
    assert got == verdict


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


def test_copies_into_user_memory_counted_on_loopback():
    result = claimcheck.check_timed(copies)
    got = result["received"]
    assert [v.total for v in got.values()] == [MIB64] * 5
    assert {k: v.into_user for k, v in got.items()} == {
        "sendall + recv": MIB64, "sendall + recv_into": MIB64,
        "sendall + io_uring recv": MIB64, "sendall + splice": 0,
        "sendfile + splice": 0}
    assert got["sendall + recv"].objects == got["sendall + recv"].calls - 1 >= 1024
    assert got["sendall + recv_into"].objects == 0


def test_the_analogue_sends_descriptors_not_data():
    before = children()
    result = analogue.measure()
    assert children() == before  # both producers were reaped
    claimcheck.check(analogue.claims(result))
    desc = result["descriptors over the socket"]
    assert desc.crossed == 1024 * 8 + 1024 * 4 + 8 == 12_296
    assert result["copies over the socket"].crossed == MIB64 + 8
    assert desc.delivered == MIB64 and desc.intact
    assert desc.uses == {slot: 64 for slot in range(16)}  # FIFO refills: 1024 / 16


def test_a_tracer_counts_the_same_receive_calls():
    if os.environ.get("CI") == "true":  # CI installs python-ptrace from the lock
        assert syscalls.methods(), syscalls.INSTALL
    result = traced.measure()
    claimcheck.check(traced.claims(result))  # skips where ptrace is not allowed
    rows = result["rows"]
    assert list(rows) == list(traced.CALL)
    least = (traced.MIB << 20) // copies.CHUNK + 1
    assert all(inside == seen >= least for inside, seen, _ in rows.values())
