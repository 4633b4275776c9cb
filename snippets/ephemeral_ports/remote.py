"""tcp_tw_reuse=2, the default, reuses TIME_WAIT ports only towards loopback: towards
a peer in another namespace, over a veth pair, every port stays taken after the
reuse delay; tcp_tw_reuse=1 frees them all."""

from __future__ import annotations

import time
from dataclasses import dataclass

from snippets import netns
from snippets.ephemeral_ports._ports import (
    SIZE,
    close,
    connect,
    each_in_namespace,
    ephemeral,
    pairs,
    settle,
    veth_peer,
)
from snippets.report import (
    Claim,
    NotMeasurable,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

HERE, THERE, PORT = "10.9.0.1", "10.9.0.2", 5000  # the veth pair's two ends
DELAY = 0.1  # tcp_tw_reuse_delay, where the kernel has it (ms: 100)
CASES = {"tcp_tw_reuse=2 (default)": (2,), "tcp_tw_reuse=1": (1,)}

WAITING = check("veth-time-wait", "ports in TIME_WAIT after the client closed first, "
                "tcp_tw_reuse=2 and =1: {bound}", equals([SIZE, SIZE]))
LOOPBACK_ONLY = finding("veth-no-reuse", "with tcp_tw_reuse=2 and the peer across a "
                        "veth pair, {bound} connects take a TIME_WAIT port after the "
                        "delay", equals(0))
GLOBAL = finding("veth-reuse-global", "with tcp_tw_reuse=1 and the peer across a veth "
                 "pair, {bound} connects take the TIME_WAIT ports after the delay",
                 equals(SIZE))
ALL = [WAITING, LOOPBACK_ONLY, GLOBAL]


@dataclass(frozen=True)
class Remote:
    time_wait: int  # client ports in TIME_WAIT once both sides closed
    later: int  # connects that took a port after waiting out the reuse delay


def across(reuse: int) -> Remote:
    """Fill the range towards the peer, close client first, wait, connect again."""
    netns.sysctl("net.ipv4.tcp_tw_reuse", reuse)
    wait = 2.1  # no tcp_tw_reuse_delay (before 6.14): whole seconds, at most 2 s
    if netns.has_sysctl("net.ipv4.tcp_tw_reuse_delay"):
        netns.sysctl("net.ipv4.tcp_tw_reuse_delay", int(DELAY * 1000))
        wait = 2.5 * DELAY
    with veth_peer(HERE, THERE, PORT) as srv:
        clients, accepted = pairs(srv, (THERE, PORT))
        close(clients)  # the client closes first: TIME_WAIT on its side
        settle()
        close(accepted)
        settle()
        waiting = len(ephemeral("TIME_WAIT"))
        time.sleep(wait)
        again: list = []
        later = [connect((THERE, PORT), again) for _ in range(SIZE)]
        close(again)
    return Remote(waiting, sum(isinstance(g, int) for g in later))


def measure() -> dict[str, Remote]:
    return each_in_namespace(across, CASES)


def claims(r: dict[str, Remote]) -> list[Claim]:
    two, one = r.values()
    return [WAITING.of([two.time_wait, one.time_wait]), LOOPBACK_ONLY.of(two.later),
            GLOBAL.of(one.later)]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    print(f"client {HERE} -> peer {THERE}:{PORT} in another namespace, over veth\n")
    print(table(["sysctl", "TIME_WAIT", "connects after the delay"],
                [[name, v.time_wait, v.later] for name, v in r.items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
