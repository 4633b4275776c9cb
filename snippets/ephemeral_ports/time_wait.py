"""The side that closes first keeps TIME_WAIT: a client closing first holds its source
ports (reconnects fail with EADDRNOTAVAIL), a server closing first leaves them free.
tcp_max_tw_buckets caps how many sockets wait: past it, a closing socket skips
TIME_WAIT and its port is free at once. /proc/net/sockstat and the TcpExt counters
(nstat) see all of it."""

from __future__ import annotations

from dataclasses import dataclass

from snippets import netns
from snippets.ephemeral_ports._ports import (
    RANGE,
    SIZE,
    close,
    connect,
    each_in_namespace,
    ephemeral,
    listeners,
    pairs,
    settle,
    sockets,
    sockstat_tw,
    tcpext,
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

DEST = ("127.0.0.1", 5000)
BUCKETS = 2  # tcp_max_tw_buckets in the third case: half the range
CASES = {"client": (True,), "server": (False,),
         f"client, tw_buckets={BUCKETS}": (True, BUCKETS)}

OPENED = check("opened-range", f"connections opened in the range {RANGE}, in each "
               "case: {bound}", equals([SIZE, SIZE, SIZE]))
CLIENT_TW = finding("client-time-wait", "after the client closes first, {bound} of its"
                    " sockets sit in TIME_WAIT", equals(SIZE))
CLIENT_AGAIN = finding("client-reconnect", "after the client closes first, a reconnect"
                       " fails with {bound}", equals("EADDRNOTAVAIL"))
SERVER_TW = finding("server-first-time-wait", "after the server closes first, {bound} "
                    "client sockets sit in TIME_WAIT", equals(0))
SERVER_KEEPS = finding("server-keeps-time-wait", "after the server closes first, "
                       f"{{bound}} of its sockets (port {DEST[1]}) sit in TIME_WAIT",
                       equals(SIZE))
SERVER_AGAIN = finding("server-first-reconnect", "after the server closes first, a "
                       "reconnect {bound}", equals("succeeds"))
CAPPED = finding("tw-buckets-cap", f"with tcp_max_tw_buckets={BUCKETS}, {{bound}} of "
                 f"the {SIZE} client sockets closed first sit in TIME_WAIT",
                 equals(BUCKETS))
CAPPED_AGAIN = finding("tw-buckets-reconnect", "with tcp_max_tw_buckets="
                       f"{BUCKETS}, a reconnect after the client closed first "
                       "{bound}", equals("succeeds"))
SOCKSTAT = finding("sockstat-tw", "after the client closes first, /proc/net/sockstat "
                   "reads tw {bound}", equals(SIZE))
ENTERED = finding("nstat-tw", "after the client closes first, TcpExtTW has counted "
                  "{bound} sockets into TIME_WAIT", equals(SIZE))
OVERFLOW = finding("nstat-tw-overflow", f"with tcp_max_tw_buckets={BUCKETS}, "
                   f"TcpExtTCPTimeWaitOverflow counts {{bound}} of the {SIZE} closes",
                   equals(SIZE - BUCKETS))
ALL = [OPENED, CLIENT_TW, CLIENT_AGAIN, SERVER_TW, SERVER_KEEPS, SERVER_AGAIN, CAPPED,
       CAPPED_AGAIN, SOCKSTAT, ENTERED, OVERFLOW]


@dataclass(frozen=True)
class Closed:
    connections: int
    time_wait: int  # client sockets in TIME_WAIT once both sides closed
    reconnect: str  # "succeeds" or the errno name it failed with
    server_time_wait: int = 0  # server sockets (port 5000) in TIME_WAIT
    sockstat_tw: int = 0  # the `tw` of /proc/net/sockstat, once both sides closed
    counted: tuple[int, int] = (0, 0)  # TcpExt TW, TCPTimeWaitOverflow: increments


def round_trip(client_first: bool, buckets: int | None = None) -> Closed:
    """SIZE connections, closed by one side first; then what the ports can do."""
    if buckets is not None:
        netns.sysctl("net.ipv4.tcp_max_tw_buckets", buckets)
    before = tcpext()
    with listeners(DEST) as (srv,):
        clients, accepted = pairs(srv, DEST)
        first, second = (clients, accepted) if client_first else (accepted, clients)
        close(first)
        settle()
        close(second)
        settle()
        waiting = len(ephemeral("TIME_WAIT"))
        served = sum(s.local_port == DEST[1] and s.state == "TIME_WAIT"
                     for s in sockets())
        tw, after = sockstat_tw(), tcpext()
        again: list = []
        got = connect(DEST, again)
        close(again)
    counted = tuple(after[k] - before[k] for k in ("TW", "TCPTimeWaitOverflow"))
    return Closed(len(clients), waiting, "succeeds" if isinstance(got, int) else got,
                  served, tw, counted)


def measure() -> dict[str, Closed]:
    # tcp_tw_reuse=0: no reuse of TIME_WAIT ports (its default 2 allows it on
    # loopback; the reuse demo shows that)
    return each_in_namespace(round_trip, CASES, sysctls={"net.ipv4.tcp_tw_reuse": 0})


def claims(r: dict[str, Closed]) -> list[Claim]:
    c, s, capped = r.values()
    return [OPENED.of([c.connections, s.connections, capped.connections]),
            CLIENT_TW.of(c.time_wait), CLIENT_AGAIN.of(c.reconnect),
            SERVER_TW.of(s.time_wait), SERVER_KEEPS.of(s.server_time_wait),
            SERVER_AGAIN.of(s.reconnect),
            CAPPED.of(capped.time_wait), CAPPED_AGAIN.of(capped.reconnect),
            SOCKSTAT.of(c.sockstat_tw), ENTERED.of(c.counted[0]),
            OVERFLOW.of(capped.counted[1])]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    print(f"range {RANGE}, tcp_tw_reuse=0; tw_buckets: tcp_max_tw_buckets\n")
    print(table(["closes first", "client TW", "server TW", "reconnect",
                 "sockstat tw", "TcpExtTW", "TW overflow"],
                [[name, v.time_wait, v.server_time_wait, v.reconnect, v.sockstat_tw,
                  *v.counted] for name, v in r.items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
