"""The side that closes first keeps TIME_WAIT: a client closing first holds its source
ports (reconnects fail with EADDRNOTAVAIL), a server closing first leaves them free."""

from __future__ import annotations

from dataclasses import dataclass

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
CASES = {"client closes first": (True,), "server closes first": (False,)}

OPENED = check("opened-range", f"connections opened in the range {RANGE}, client "
               "first and server first: {bound}", equals([SIZE, SIZE]))
CLIENT_TW = finding("client-time-wait", "after the client closes first, {bound} of its"
                    " sockets sit in TIME_WAIT", equals(SIZE))
CLIENT_AGAIN = finding("client-reconnect", "after the client closes first, a reconnect"
                       " fails with {bound}", equals("EADDRNOTAVAIL"))
SERVER_TW = finding("server-first-time-wait", "after the server closes first, {bound} "
                    "client sockets sit in TIME_WAIT", equals(0))
SERVER_AGAIN = finding("server-first-reconnect", "after the server closes first, a "
                       "reconnect {bound}", equals("succeeds"))


@dataclass(frozen=True)
class Closed:
    connections: int
    time_wait: int  # client sockets in TIME_WAIT once both sides closed
    reconnect: str  # "succeeds" or the errno name it failed with


def round_trip(client_first: bool) -> Closed:
    """SIZE connections, closed by one side first; then what the ports can do."""
    with listeners(DEST) as (srv,):
        clients, accepted = pairs(srv, DEST)
        first, second = (clients, accepted) if client_first else (accepted, clients)
        close(first)
        settle()
        close(second)
        settle()
        waiting = len(ephemeral("TIME_WAIT"))
        again: list = []
        got = connect(DEST, again)
        close(again)
    return Closed(len(clients), waiting, "succeeds" if isinstance(got, int) else got)


def measure() -> dict[str, Closed]:
    # tcp_tw_reuse=0: no reuse of TIME_WAIT ports (its default 2 allows it on
    # loopback; the reuse demo shows that)
    return each_in_namespace(round_trip, CASES, sysctls={"net.ipv4.tcp_tw_reuse": 0})


def claims(r: dict[str, Closed]) -> list[Claim]:
    c, s = r["client closes first"], r["server closes first"]
    return [OPENED.of([c.connections, s.connections]), CLIENT_TW.of(c.time_wait),
            CLIENT_AGAIN.of(c.reconnect), SERVER_TW.of(s.time_wait),
            SERVER_AGAIN.of(s.reconnect)]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured([OPENED, CLIENT_TW, CLIENT_AGAIN, SERVER_TW,
                                   SERVER_AGAIN], why)
    print(f"range {RANGE}, tcp_tw_reuse=0\n")
    print(table(["who closes first", "connections", "client TIME_WAIT", "reconnect"],
                [[name, v.connections, v.time_wait, v.reconnect]
                 for name, v in r.items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
