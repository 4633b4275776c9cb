"""Ask this kernel for a zero-copy receive queue: each refusal names a check."""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import socket

from snippets.report import (
    Claim,
    HostForbids,
    NotMeasurable,
    equals,
    finding,
    publish,
    table,
)
from snippets.zero_copy_receive import _uring as uring

SI, DT = uring.SETUP_SINGLE_ISSUER, uring.SETUP_DEFER_TASKRUN
NO_DT, NO_CQE = "ring without DEFER_TASKRUN, lo", "ring without CQE32/CQE_MIXED, lo"
NO_SI = "DEFER_TASKRUN without SINGLE_ISSUER"
MISSING, MIXED = "zero-copy ring, missing ifindex", "CQE_MIXED ring, missing ifindex"
LO, PLAIN = "zero-copy ring, lo", "ring with no flags, lo"
ASKS = {NO_DT: ("lo", SI | uring.SETUP_CQE32), NO_CQE: ("lo", SI | DT),
        NO_SI: ("lo", DT | uring.SETUP_CQE32), MISSING: ("missing", uring.ZCRX_FLAGS),
        MIXED: ("missing", SI | DT | uring.SETUP_CQE_MIXED),
        LO: ("lo", uring.ZCRX_FLAGS)}

DEFER = finding("defer-required", "a ring without DEFER_TASKRUN gets {bound}",
                equals("EINVAL"))
BIG_CQE = finding("big-cqe-required", "a ring with neither CQE32 nor CQE_MIXED gets "
                  "{bound}", equals("EINVAL"))
SINGLE = finding("single-issuer-required", "a ring with DEFER_TASKRUN but not "
                 "SINGLE_ISSUER is refused when it is created: {bound}",
                 equals("io_uring_setup: EINVAL"))
MIXED_OK = finding("cqe-mixed-accepted", "a ring with CQE_MIXED in place of CQE32 "
                   "passes the ring checks: a missing ifindex gets {bound}",
                   equals("ENODEV"))
BUILT_IN = finding("zcrx-built-in", "a missing ifindex gets {bound}: every check "
                   "before the device lookup passed, so zero-copy receive is built "
                   "into this kernel", equals("ENODEV"))
NO_DEVICE = finding("lo-refused", "lo gets {bound}: it has no parent (hardware) "
                    "device to receive into", equals("EOPNOTSUPP"))
CAPABILITY = finding("capability-first", "without CAP_NET_ADMIN both rings get "
                     "{bound}: the capability is checked before the ring's flags",
                     equals("EPERM"))
CLAIMS = [DEFER, BIG_CQE, SINGLE, MIXED_OK, BUILT_IN, NO_DEVICE, CAPABILITY]


def ask(if_idx: int, ring_flags: int) -> int:
    """0 if the kernel set up the queue, else its errno (io_uring_setup's negated)."""
    area = mmap.mmap(-1, 16 * mmap.PAGESIZE)  # page-aligned memory to receive into
    view = ctypes.c_char.from_buffer(area)
    try:
        fd, _ = uring.setup(4, ring_flags)
    except OSError as error:
        del view
        area.close()
        return -error.errno  # negative: the ring itself was refused
    area_reg = uring.AreaReg(addr=ctypes.addressof(view), len=len(area))
    region = uring.RegionDesc(size=mmap.PAGESIZE)  # the refill queue's ring
    reg = uring.IfqReg(if_idx=if_idx, if_rxq=0, rq_entries=4,
                       area_ptr=ctypes.addressof(area_reg),
                       region_ptr=ctypes.addressof(region))
    try:
        uring.register(fd, uring.REGISTER_ZCRX_IFQ, reg)
        return 0
    except OSError as error:
        return error.errno
    finally:
        os.close(fd)
        del view
        area.close()


def measure() -> dict:
    index = {"lo": socket.if_nametoindex("lo"),
             "missing": max(i for i, _ in socket.if_nameindex()) + 1000}
    lo = index["lo"]
    try:  # root there, not in the initial namespace
        userns = {LO: uring.in_user_namespace(lambda: ask(lo, uring.ZCRX_FLAGS)),
                  PLAIN: uring.in_user_namespace(lambda: ask(lo, 0))}
    except HostForbids as why:
        userns = why  # what the capability claim says instead of a verdict
    return {**uring.host(),
            "asks": {k: ask(index[dev], flags) for k, (dev, flags) in ASKS.items()},
            "in a user namespace": userns}


def name(code: int) -> str:
    """The answer as the table shows it: accepted, or an errno and its number."""
    if code == 0:
        return "accepted"
    where = "io_uring_setup: " if code < 0 else ""
    code = abs(code)
    label = "EOPNOTSUPP" if code == errno.EOPNOTSUPP else errno.errorcode[code]
    return f"{where}{label} ({code})"


def answer(*codes: int) -> str:
    """The errno names given, once each: "EPERM" when every ask got EPERM."""
    return ", ".join(sorted({name(c).split(" (")[0] for c in codes}))


def unchecked(r: dict) -> NotMeasurable | None:
    """Why no finding can be checked on this host, if none can."""
    a, seen = r["asks"], ", ".join(name(v) for v in r["asks"].values())
    if a[LO] < 0:
        return HostForbids(f"io_uring_setup refused ({name(a[LO])}; "
                           f"kernel.io_uring_disabled = {r['io_uring_disabled']})")
    if r["version"] < (6, 15):
        return NotMeasurable(f"Linux {r['release']} predates zero-copy receive "
                             f"(merged for 6.15); it answered {seen}")
    if a[MISSING] == errno.EOPNOTSUPP:
        return NotMeasurable(f"Linux {r['release']} was built without "
                             f"CONFIG_IO_URING_ZCRX; it answered {seen}")
    return None


def claims(r: dict) -> list[Claim]:
    a, userns = r["asks"], r["in a user namespace"]
    if why := unchecked(r):
        return [e.not_checked(why) for e in CLAIMS]
    single = SINGLE.of(answer(a[NO_SI]))
    if not r["net_admin"]:  # this process is the one without the capability
        stopped = HostForbids("this process lacks CAP_NET_ADMIN in the initial user "
                              "namespace: every ask stops at the capability check "
                              f"({answer(a[LO], a[NO_DT])})")
        return [e.not_checked(stopped) for e in (DEFER, BIG_CQE)] + [single] + [
            e.not_checked(stopped) for e in (MIXED_OK, BUILT_IN, NO_DEVICE)] + [
            CAPABILITY.of(answer(a[LO], a[NO_DT], a[NO_CQE]), "this process")]
    mixed = (MIXED_OK.of(answer(a[MIXED])) if a[MIXED] >= 0 else MIXED_OK.not_checked(
        f"this kernel's io_uring_setup refuses IORING_SETUP_CQE_MIXED "
        f"({name(a[MIXED])})"))
    out = [DEFER.of(answer(a[NO_DT])), BIG_CQE.of(answer(a[NO_CQE])), single, mixed,
           BUILT_IN.of(answer(a[MISSING])), NO_DEVICE.of(answer(a[LO]))]
    if isinstance(userns, NotMeasurable):
        return out + [CAPABILITY.not_checked(userns)]
    if min(userns.values()) < 0:  # no ring there: the ask never reached the check
        return out + [CAPABILITY.not_checked(HostForbids(
            f"no io_uring in a user namespace here ({name(min(userns.values()))})"))]
    return out + [CAPABILITY.of(answer(*userns.values()),
                                "in a user namespace (root there, not outside)")]


def main() -> None:
    r = measure()
    print(f"Linux {r['release']}, kernel.io_uring_disabled = {r['io_uring_disabled']}"
          f", CAP_NET_ADMIN: {'yes' if r['net_admin'] else 'no'}")
    rows = [[k, name(v)] for k, v in r["asks"].items()]
    userns = r["in a user namespace"]
    rows += ([[f"user namespace, {k}", name(v)] for k, v in userns.items()]
             if isinstance(userns, dict) else [["user namespace", "none here"]])
    print(table(["IORING_REGISTER_ZCRX_IFQ asked with", "answer"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
