"""Giving up is not cancelling: the server keeps working unless it watches the peer."""

from __future__ import annotations

import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    above,
    at_most,
    check,
    equals,
    finding,
    publish,
    table,
)
from snippets.timeouts._servers import OK, WorkerPool, ask, read_head

UNITS, UNIT, PATIENCE = 16, 0.05, 0.25  # the work asked for; the client's timeout

GAVE_UP = check("clients-give-up", "clients that give up before the work is done: "
                "{bound} of 2", equals(2), timing=True)
FINISHED = check("ignorer-finishes", "the server that does not look runs to the end "
                 "and writes its answer: {bound}", equals("finished"))
AFTER = finding("work-after-leaving", f"a server that does not look does {{bound}} of "
                f"its {UNITS} units after the client has gone", above(UNITS // 2),
                timing=True)
STOPS = finding("watcher-stops", "a server that watches the connection does {bound} "
                "unit after the client has gone", at_most(1), timing=True)


def gone(conn: socket.socket) -> bool:
    """Has the client closed? Readable, yet a peek finds no byte: that is its FIN."""
    if not select.select([conn], [], [], 0)[0]:
        return False
    return conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""


def handle(conn, pool: WorkerPool, watch: bool, done: list) -> str:
    read_head(conn, deadline=1.0)
    for _ in range(UNITS):
        if watch and gone(conn):
            return "cancelled"
        pool.stopping.wait(UNIT)  # one unit of work (a query, a computation)
        done.append(time.monotonic())
    conn.sendall(OK)  # to a client that may have left: nobody reads it
    return "finished"


def run(watch: bool) -> dict:
    done: list[float] = []
    with WorkerPool(handle, 1, watch=watch, done=done) as pool:
        status = ask(pool.address, "/report", PATIENCE)
        left = time.monotonic()  # ask() closed its socket: the client is gone
        while len(pool.spans) < 1 and pool.now() < UNITS * UNIT + 1:
            time.sleep(UNIT)  # let the server finish or notice
    return {"client": status, "server": pool.spans[0].kind, "units": len(done),
            "after": sum(t > left for t in done)}


def measure() -> dict:
    with ThreadPoolExecutor(2) as ex:  # both servers side by side
        ignores, watches = ex.map(run, [False, True])
    return {"ignores the client": ignores, "watches the client": watches}


def claims(r: dict) -> list[Claim]:
    ig, wa = r.values()
    gave_up = sum(x["client"] == "gave up" for x in r.values())
    return [GAVE_UP.of(gave_up), FINISHED.of(ig["server"]),
            AFTER.of(ig["after"]), STOPS.of(wa["after"])]


def main() -> None:
    r = check_timing(measure, claims)
    print(f"the request needs {UNITS} x {UNIT} s of work; "
          f"the client gives up after {PATIENCE} s and closes")
    print(table(["server", "client", "server ended", "units done",
                 "units after client left"],
                [[name, x["client"], x["server"], x["units"], x["after"]]
                 for name, x in r.result.items()]))
    publish(r.claims)


if __name__ == "__main__":
    main()
