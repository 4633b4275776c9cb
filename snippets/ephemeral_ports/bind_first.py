"""bind() before connect() picks a port without knowing the destination, so a client
that binds first gets the range once in all; IP_BIND_ADDRESS_NO_PORT defers the pick
to connect() and gets it again per destination. A port-0 listener takes one too."""

from __future__ import annotations

import socket
import struct

from snippets.ephemeral_ports._ports import (
    HIGH,
    LOW,
    SIZE,
    fill,
    in_namespace,
    listeners,
    unchecked,
)
from snippets.report import Claim, publish, table

A, B = ("127.0.0.1", 5000), ("127.0.0.1", 5001)
LINGER_0 = struct.pack("ii", 1, 0)  # close with a reset: no TIME_WAIT
WAYS = {"connect() alone": {}, "bind(0), then connect()": {"bind": "127.0.0.1"},
        "bind(0) + IP_BIND_ADDRESS_NO_PORT": {"bind": "127.0.0.1", "no_port": True}}


def per_destination() -> dict:
    """For each way to connect: how many connects A and then B got, and why not more."""
    out = {}
    with listeners(A, B):
        for way, how in WAYS.items():
            keep: list = []
            (a, why_a), (b, why_b) = fill(A, keep, **how), fill(B, keep, **how)
            out[way] = [len(a), len(b), why_b]
            for s in keep:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
                s.close()  # a reset: no TIME_WAIT, so the next way starts afresh
        with socket.create_server(("127.0.0.1", 0)) as stray:  # the pitfall
            keep = []
            port = stray.getsockname()[1]
            out["with a listener bound to port 0"] = [len(fill(A, keep)[0]), "-",
                                                      "listener took one"]
            out["_stray_in_range"] = LOW <= port <= HIGH
            for s in keep:
                s.close()
    return out


def measure() -> dict:
    result, reason = in_namespace(per_destination)
    return {"ways": result, "reason": reason}


def claims(r: dict) -> list[Claim]:
    statements = [f"connect() alone and IP_BIND_ADDRESS_NO_PORT get {SIZE} + {SIZE}"
                  " connects to two destinations",
                  f"bind(0) before connect() gets {SIZE} + 0: the second "
                  "destination's bind fails with EADDRINUSE",
                  f"a listener bound to port 0 takes a port from the range: "
                  f"{SIZE - 1} connects left"]
    if r["reason"]:
        return unchecked(statements, r["reason"])
    w = r["ways"]
    alone, bound, no_port = (w[k] for k in WAYS)
    stray = w["with a listener bound to port 0"][0]
    return [Claim(statements[0], f"{alone[:2]} and {no_port[:2]}",
                  alone[:2] == no_port[:2] == [SIZE, SIZE]),
            Claim(statements[1], f"{bound[:2]}, then {bound[2]}",
                  bound == [SIZE, 0, "EADDRINUSE"]),
            Claim(statements[2], f"{stray} connects", stray == SIZE - 1
                  and w["_stray_in_range"])]


def main() -> None:
    r = measure()
    if r["ways"]:
        rows = [[k, *v] for k, v in r["ways"].items() if not k.startswith("_")]
        print(table(["how the client connects", "to A", "then to B", "B ended by"],
                    rows))
    else:
        print(r["reason"])
    publish(claims(r))


if __name__ == "__main__":
    main()
