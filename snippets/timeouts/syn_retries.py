"""The kernel stops resending a SYN at a count or at a time limit, whichever it meets
first; linear SYN timeouts raise the count, not the time limit."""

from __future__ import annotations

import errno
import json
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from snippets import netns
from snippets.measure import check_timing
from snippets.report import (
    Claim,
    NotMeasurable,
    between,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

ROOT = Path(__file__).resolve().parents[2]  # where `snippets` is importable
NOBODY = "10.99.0.1"  # routed into lo, where nothing answers: every SYN is lost
RETRIES, LINEAR = "net.ipv4.tcp_syn_retries", "net.ipv4.tcp_syn_linear_timeouts"
# (name, the namespace's sysctls, TCP_SYNCNT on the socket or 0)
SETTINGS = [("tcp_syn_retries=1, linear 4", {RETRIES: 1, LINEAR: 4}, 0),
            ("tcp_syn_retries=1, linear 0", {RETRIES: 1, LINEAR: 0}, 0),
            ("TCP_SYNCNT=1, linear 4", {LINEAR: 4}, 1)]  # the sysctl left at 6


class GaveUp(NamedTuple):
    outcome: str  # an errno name, or "pending" if the kernel had not given up
    seconds: float
    resent: int  # the namespace's TcpExt TCPSynRetrans: this socket's SYN resends


LIN = finding("syn-linear-resends", "tcp_syn_retries=1 with linear timeouts 4: SYNs "
              "resent before giving up: {bound}", equals(2))
PLAIN = finding("syn-plain-resends", "tcp_syn_retries=1 with linear timeouts 0: SYNs "
                "resent before giving up: {bound}", equals(1))
SYNCNT = finding("syncnt-resends", "TCP_SYNCNT=1 (tcp_syn_retries 6, linear timeouts "
                 "4): SYNs resent before giving up: {bound}", equals(2))
TIME = finding("syn-linear-give-up", "tcp_syn_retries=1 with linear timeouts 4 gives "
               "up after {bound}", between(2.95, 3.6), unit="s", fmt=".2f",
               timing=True)
SAME = finding("syn-same-give-up", "give-up time with linear timeouts 4 over 0: "
               "{bound}", between(0.9, 1.1), unit="x", fmt=".2f", timing=True)
ENDED = check("syn-etimedout", "the kernel ended every attempt: {bound}",
              equals(["ETIMEDOUT"] * 3))


def rule(retries: int, linear: int) -> tuple[int, int]:
    """tcp_timer.c as we read it: (SYN resends, seconds to give up). The timer waits
    1 s, doubling after `linear` resends (up to 120 s); each time it fires the kernel
    gives up if it has resent retries + linear times, or if the first SYN is as old
    as `retries` resends take when every wait doubles from 1 s."""
    limit = 2 ** (min(retries, 6) + 1) - 1 + 120 * max(retries - 6, 0)
    t, wait, resent = 0, 1, 0
    while True:
        t += wait
        if resent >= retries + linear or t >= limit:
            return resent, t
        resent += 1
        wait = min(wait * 2, 120) if resent > linear else wait


def give_up(syncnt: int) -> GaveUp:
    """In a fresh namespace: connect to NOBODY and wait for the kernel to give up."""
    with socket.socket() as s:
        if syncnt:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, syncnt)
        s.setblocking(False)
        t0 = time.monotonic()
        s.connect_ex((NOBODY, 80))
        done = select.select([], [s], [], 8.0)[1]
        seconds = time.monotonic() - t0
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    rows = Path("/proc/net/netstat").read_text().splitlines()  # this namespace's
    head, values = next(p for p in zip(rows[::2], rows[1::2]) if p[0][:6] == "TcpExt")
    resent = int(dict(zip(head.split(), values.split()))["TCPSynRetrans"])
    return GaveUp(errno.errorcode.get(err, "connected") if done else "pending",
                  seconds, resent)


def attempt(i: int) -> None:
    """One setting, in a process of its own: its result as JSON on stdout."""
    _, sysctls, syncnt = SETTINGS[i]
    try:
        print(json.dumps(netns.run(give_up, syncnt, sysctls=sysctls, timeout=12,
                                   routes=[f"route add {NOBODY}/32 dev lo"])))
    except NotMeasurable as why:
        print(json.dumps(why.reason))


def measure() -> list[GaveUp]:
    """The settings side by side (~3 s in all), each in a fresh single-threaded
    process, which netns.run may fork, and each in its own namespace."""
    if not netns.has_sysctl(LINEAR):
        raise NotMeasurable("needs Linux 6.5 or later (tcp_syn_linear_timeouts)")
    code = "from snippets.timeouts.syn_retries import attempt; attempt(%d)"
    procs = [subprocess.Popen([sys.executable, "-c", code % i], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE) for i in range(len(SETTINGS))]
    try:
        outs = [json.loads(p.communicate(timeout=20)[0] or "null") for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.wait()
    for out in outs:
        if not isinstance(out, list):
            raise NotMeasurable(out or "a namespace child failed (see its stderr)")
    return [GaveUp(*out) for out in outs]


def claims(r: list[GaveUp]) -> list[Claim]:
    linear, plain, syncnt = r
    return [LIN.of(linear.resent), PLAIN.of(plain.resent), SYNCNT.of(syncnt.resent),
            TIME.of(linear.seconds), SAME.of(linear.seconds / plain.seconds),
            ENDED.of([a.outcome for a in r])]


def main() -> None:
    try:
        r = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured([LIN, PLAIN, SYNCNT, TIME, SAME, ENDED], why)
    rows = [[name, a.outcome, a.resent, f"{a.seconds:.2f}",
             "{}, {} s".format(*rule(sysctls.get(RETRIES, syncnt), sysctls[LINEAR]))]
            for (name, sysctls, syncnt), a in zip(SETTINGS, r.result)]
    rows.append(["kernel defaults (6, linear 4)", "not waited for", "-", "-",
                 "{}, {} s".format(*rule(6, 4))])
    print(table(["setting", "outcome", "SYNs resent", "gave up after s",
                 "rule: resent, s"], rows))
    publish(r.claims)


if __name__ == "__main__":
    main()
