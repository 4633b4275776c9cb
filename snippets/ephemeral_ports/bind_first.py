"""bind() before connect() picks a port without knowing the destination, so a client
that binds first gets the range once in all; IP_BIND_ADDRESS_NO_PORT defers the pick
to connect() and gets it again per destination. A port-0 listener takes one too."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from snippets.ephemeral_ports._ports import SIZE, close, fill, in_namespace, listeners
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

A, B = ("127.0.0.1", 5000), ("127.0.0.1", 5001)
WAYS = {"connect() alone": {}, "bind(0), then connect()": {"bind": "127.0.0.1"},
        "bind(0) + IP_BIND_ADDRESS_NO_PORT": {"bind": "127.0.0.1", "no_port": True}}

ALONE = check("connect-alone", "connect() alone: connects to A, then to B: {bound}",
              equals([SIZE, SIZE]))
BURNS = finding("bind-first-burns", "bind(0) before connect(): connects to A, then "
                "to B: {bound}", equals([SIZE, 0]))
BIND_ERROR = finding("bind-first-errno", "bind(0) before connect() to B fails with "
                     "{bound}", equals("EADDRINUSE"))
NO_PORT = finding("no-port-per-destination", "bind(0) with IP_BIND_ADDRESS_NO_PORT: "
                  "connects to A, then to B: {bound}", equals([SIZE, SIZE]))
LISTENER = finding("listener-takes-one", "with a listener bound to port 0, {bound} "
                   "connects to A are left", equals(SIZE - 1))
ALL = [ALONE, BURNS, BIND_ERROR, NO_PORT, LISTENER]


@dataclass(frozen=True)
class PerDestination:
    ways: dict[str, tuple[int, int, str]]  # way: (connects to A, to B, what ended B)
    with_listener: int  # connects to A left beside a listener bound to port 0


def per_destination() -> PerDestination:
    """For each way to connect: how many connects A and then B got, and why not more."""
    ways = {}
    with listeners(A, B):
        for way, how in WAYS.items():
            keep: list = []
            a, b = fill(A, keep, **how), fill(B, keep, **how)
            ways[way] = (len(a.ports), len(b.ports), b.ended_by)
            close(keep, reset=True)  # no TIME_WAIT: the next way starts afresh
        with socket.create_server(("127.0.0.1", 0)):  # the pitfall
            keep = []
            left = len(fill(A, keep).ports)
            close(keep)
    return PerDestination(ways, left)


def measure() -> PerDestination:
    return in_namespace(per_destination)


def claims(r: PerDestination) -> list[Claim]:
    alone, bound, no_port = (r.ways[k] for k in WAYS)
    return [ALONE.of(list(alone[:2])), BURNS.of(list(bound[:2])),
            BIND_ERROR.of(bound[2]), NO_PORT.of(list(no_port[:2])),
            LISTENER.of(r.with_listener)]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    rows = [[k, *v] for k, v in r.ways.items()]
    rows.append(["with a listener bound to port 0", r.with_listener, "-", "-"])
    print(table(["how the client connects", "to A", "then to B", "B ended by"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
