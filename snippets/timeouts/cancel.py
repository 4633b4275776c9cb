"""Giving up is not cancelling: the server keeps working unless it watches the peer."""

from __future__ import annotations

import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.timeouts._servers import OK, WorkerPool, ask, read_head

UNITS, UNIT, PATIENCE = 16, 0.05, 0.25  # the work asked for; the client's timeout


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
    ev = [f"client {x['client']}; server {x['server']} after {x['units']} units, "
          f"{x['after']} after the client left" for x in (ig, wa)]
    return [
        Claim("the client's timeout fires before the work is done", ev[0],
              ig["client"] == wa["client"] == "gave up", timing=True),
        Claim(f"a server that does not look finishes all {UNITS} units", ev[0],
              ig["server"] == "finished" and ig["units"] == UNITS),
        Claim("...most of them after the client had gone: work nobody reads", ev[0],
              ig["after"] > UNITS / 2, timing=True),
        Claim("a server that watches the connection stops within a unit of the "
              "client leaving", ev[1], wa["server"] == "cancelled"
              and wa["after"] <= 1 and wa["units"] < UNITS / 2, timing=True),
    ]


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
