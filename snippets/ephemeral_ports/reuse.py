"""Two ways out of TIME_WAIT: tcp_tw_reuse (its default 2 means loopback only) lets a
new connect take a TIME_WAIT port after a short delay; SO_LINGER {1, 0} skips
TIME_WAIT by closing with a reset, which the peer sees as ECONNRESET. The TcpExt
counter TWRecycled (nstat) counts each reuse."""

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
    listeners,
    pairs,
    settle,
    tcpext,
)
from snippets.measure import check_timing
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

DEST = ("127.0.0.1", 5000)
DELAY = 0.2  # tcp_tw_reuse_delay, where the kernel has it (ms: 200)
CASES = {"tcp_tw_reuse=0": (0, False), "tcp_tw_reuse=2 (default)": (2, False),
         "SO_LINGER {1,0}": (0, True)}

WAITING = check("closed-to-time-wait", "ports in TIME_WAIT before connecting again, "
                "tcp_tw_reuse=0 and =2: {bound}", equals([SIZE, SIZE]))
NO_REUSE = finding("no-reuse-later", "with tcp_tw_reuse=0 the TIME_WAIT ports stay "
                   "taken: {bound} connects, at once or after the delay", equals(0))
AT_ONCE = finding("reuse-at-once", "with tcp_tw_reuse=2 on loopback, {bound} connects "
                  "take a TIME_WAIT port within the reuse delay", equals(0),
                  timing=True)
LATER = finding("reuse-after-delay", "with tcp_tw_reuse=2 on loopback, {bound} "
                "connects take the TIME_WAIT ports after the delay", equals(SIZE))
NO_WAIT = finding("linger-no-time-wait", "SO_LINGER {{1,0}} leaves {bound} sockets in "
                  "TIME_WAIT", equals(0))
PEER = finding("linger-peer-reset", "after SO_LINGER {{1,0}} the peer reads {bound}",
               equals("ECONNRESET"))
FREE = finding("linger-free-at-once", "after SO_LINGER {{1,0}}, {bound} connects "
               "succeed at once", equals(SIZE))
RECYCLED = finding("nstat-tw-recycled", "with tcp_tw_reuse=2 on loopback, "
                   "TcpExtTWRecycled counts {bound} reused TIME_WAIT ports",
                   equals(SIZE))
ALL = [WAITING, NO_REUSE, AT_ONCE, LATER, NO_WAIT, PEER, FREE, RECYCLED]


@dataclass(frozen=True)
class Reuse:
    time_wait: int
    peer: str  # what the server side read after the client's close
    now: int  # connects that succeeded right after the close
    later: int  # more that succeeded after waiting out the reuse delay
    recycled: int = 0  # how much TcpExt TWRecycled went up meanwhile


def scenario(reuse: int, linger: bool) -> Reuse:
    netns.sysctl("net.ipv4.tcp_tw_reuse", reuse)
    # no tcp_tw_reuse_delay (before 6.14): whole seconds are compared, so reuse
    # comes 0 to 1 s after the last timestamp (1 to 2 s on kernels that used
    # `get_seconds() - stamp > 1`, such as 4.15)
    wait = 2.1
    if netns.has_sysctl("net.ipv4.tcp_tw_reuse_delay"):
        netns.sysctl("net.ipv4.tcp_tw_reuse_delay", int(DELAY * 1000))
        wait = 2 * DELAY
    peer_saw, before = "EOF", tcpext()["TWRecycled"]
    with listeners(DEST) as (srv,):
        clients, accepted = pairs(srv, DEST)
        close(clients, reset=linger)
        settle()
        try:
            accepted[0].recv(16)
        except ConnectionResetError:
            peer_saw = "ECONNRESET"
        close(accepted)
        settle()
        waiting = len(ephemeral("TIME_WAIT"))
        again: list = []
        now = [connect(DEST, again) for _ in range(SIZE)]
        time.sleep(wait)
        later = [connect(DEST, again) for _ in range(SIZE)]
        close(again)
    return Reuse(waiting, peer_saw, sum(isinstance(g, int) for g in now),
                 sum(isinstance(g, int) for g in later),
                 tcpext()["TWRecycled"] - before)


def measure() -> dict[str, Reuse]:
    return each_in_namespace(scenario, CASES)


def claims(r: dict[str, Reuse]) -> list[Claim]:
    no, yes, rst = r.values()
    return [WAITING.of([no.time_wait, yes.time_wait]), NO_REUSE.of(no.now + no.later),
            AT_ONCE.of(yes.now), LATER.of(yes.later), NO_WAIT.of(rst.time_wait),
            PEER.of(rst.peer), FREE.of(rst.now), RECYCLED.of(yes.recycled)]


def main() -> None:
    try:
        checked = check_timing(measure, claims)
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    print(table(["close", "TIME_WAIT", "peer reads", "connects at once",
                 "after the delay", "TWRecycled"],
                [[n, v.time_wait, v.peer, v.now, v.later, v.recycled]
                 for n, v in checked.result.items()]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
