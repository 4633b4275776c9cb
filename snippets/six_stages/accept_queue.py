"""A full accept queue, in a private network namespace: connect() returns on the
SYN-ACK, before the server has queued anything, and a client whose ACK then finds the
queue full is dropped silently (tcp_abort_on_overflow = 0) or reset (= 1)."""

from __future__ import annotations

import contextlib
import socket

from snippets import netns
from snippets.report import (
    Claim,
    NotMeasurable,
    at_least,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.six_stages._tcp import counter, pending_error, sockets, state, wait_until

HOST, PORT, BACKLOG = "127.0.0.1", 5000, 1
ALL = [finding("connect-before-queued", "connect() returned while the server held the "
               "connection only as a request: client / server {bound}",
               equals("ESTABLISHED / SYN_RECV")),
       finding("queue-holds-backlog-plus-one", f"listen(backlog={BACKLOG}) queued "
               "{bound} connections before it was full", equals(BACKLOG + 1)),
       check("overflow-counted", "the kernel counted the late ACK as a listen "
             "overflow: ListenOverflows grew by {bound}", at_least(1)),
       finding("full-queue-drops-silently", "abort_on_overflow 0: the client learns "
               "nothing; its error / the server's side {bound}",
               equals("none / SYN_RECV")),
       finding("accept-misses-late-client", "while the queue is full, accept() returns "
               "only the queued connections: {bound}",
               equals(", ".join(["queued"] * (BACKLOG + 1)))),
       finding("overflow-recovers", "once accept() made room, a retransmission got the "
               "client in, with the bytes it sent while dropped: {bound}",
               equals('"late"')),
       finding("full-queue-resets", "abort_on_overflow 1: the client is reset; its "
               "error / the server's side {bound}", equals("ECONNRESET / none"))]


def fill(abort: int) -> dict | None:
    """Fill the queue around a client whose ACK comes late; None if it came early."""
    addr, seen = (HOST, PORT), {}
    with socket.create_server(addr, backlog=BACKLOG) as server, \
            contextlib.ExitStack() as open_:
        queued = [open_.enter_context(socket.create_connection(addr, 2))]
        late = open_.enter_context(socket.socket())
        late.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 0)  # delay the ACK
        late.settimeout(2)
        late.connect(addr)
        me = late.getsockname()[1]
        seen["connect()"] = f"{state(late)} / {sockets()[(PORT, me)][0]}"
        queued += [open_.enter_context(socket.create_connection(addr, 2))
                   for _ in range(BACKLOG)]
        if sockets().get((PORT, me), ("",))[0] != "SYN_RECV":
            return None  # its delayed ACK (due within 200 ms) came before the others
        seen["queue"], before = sockets()[(PORT, 0)][1], counter("ListenOverflows")
        late.send(b"late")  # the segment carries the ACK to the full queue
        wait_until(lambda: counter("ListenOverflows") > before)
        wait_until(lambda: not abort or state(late) == "CLOSE")
        seen["overflows"] = counter("ListenOverflows") - before
        seen["after"] = (f"{pending_error(late)} / "
                         f"{sockets().get((PORT, me), ('none',))[0]}")
        server.setblocking(False)
        seen["accept()"] = []
        with contextlib.suppress(BlockingIOError):
            while got := server.accept():
                got[0].close()
                seen["accept()"].append("late" if got[1][1] == me else "queued")
        seen["room"] = "-"
        server.settimeout(2)
        if not abort:  # the client retransmits; now there is room
            conn, peer = server.accept()
            with conn:
                conn.settimeout(2)
                data = conn.recv(16).decode()
                seen["room"] = f'"{data}"' if peer[1] == me else "another client"
    return seen


def overflow(abort: int) -> dict:
    for _ in range(3):
        if seen := fill(abort):
            return seen
    raise NotMeasurable("the delayed ACK came before the queue filled, 3 times: the "
                        "machine is too busy")


def measure() -> dict[int, dict]:
    return {abort: netns.run(overflow, abort, sysctls={
        "net.ipv4.tcp_abort_on_overflow": abort}) for abort in (0, 1)}


def claims(runs: dict[int, dict]) -> list[Claim]:
    drop, reset = runs[0], runs[1]
    measured = [drop["connect()"], drop["queue"],
                min(drop["overflows"], reset["overflows"]), drop["after"],
                ", ".join(drop["accept()"]), drop["room"], reset["after"]]
    return [expect.of(value) for expect, value in zip(ALL, measured)]


def main() -> None:
    try:
        runs = measure()
    except NotMeasurable as why:
        return publish_unmeasured(ALL, why)
    rows = {"connect() returns: client / server": "connect()",
            "queued before the late ACK": "queue", "ListenOverflows after it":
            "overflows", "then: client error / server": "after",
            "accept() while full": "accept()", "accept() once there is room": "room"}
    print(table(["tcp_abort_on_overflow", "0", "1"], [
        [label, *(", ".join(v) if isinstance(v := run[key], list) else v
                  for run in runs.values())] for label, key in rows.items()]))
    publish(claims(runs))


if __name__ == "__main__":
    main()
