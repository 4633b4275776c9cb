"""A wait timeout drops a request that queued too long, before any work is done."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import Claim, at_least, check, equals, finding, publish, table
from snippets.timeouts._servers import HOST, OK, ask, read_head, reply

CLIENTS, WORK, WAIT, PATIENCE = 8, 0.1, 0.2, 0.5  # one worker; seconds

ALL_WORKED = check("no-wait-works-all", "without a wait timeout the worker works on "
                   "{bound} requests", equals(CLIENTS))
WASTED = finding("no-wait-wasted", "without a wait timeout the worker also works for "
                 "clients that had given up: {bound}", at_least(1), timing=True)
ALL_HANDLED = check("wait-handles-all", "with a wait timeout every request is worked "
                    "on or dropped: {bound}", equals(CLIENTS))
DROPPED = finding("wait-drops-late", f"a wait timeout of {WAIT} s drops late requests "
                  "before any work starts: {bound}", at_least(1), timing=True)
ANSWERED = finding("wait-answers-all", "with a wait timeout every client hears 200 or "
                   "503 in time: clients that gave up {bound}", equals(0), timing=True)
NOT_WASTED = finding("wait-wastes-none", "with a wait timeout no work is done for a "
                     "client that has given up: {bound}", equals(0), timing=True)


def worker(jobs: queue.Queue, wait_timeout: float | None, log: list) -> None:
    """Serve queued connections in order; drop one that waited past the timeout."""
    while (job := jobs.get()) is not None:
        conn, queued_at = job
        with conn:
            path = (read_head(conn, deadline=1.0) or b"? ?").split()[1].decode()
            waited = time.monotonic() - queued_at
            if wait_timeout is not None and waited > wait_timeout:
                conn.sendall(reply(503, "Service Unavailable"))  # no work started
                log.append((path, "dropped"))
                continue
            time.sleep(WORK)  # the work this request asked for
            log.append((path, "worked"))
            with contextlib.suppress(OSError):  # the client may have left
                conn.sendall(OK)


def run(wait_timeout: float | None) -> dict:
    """One worker behind a queue; CLIENTS arrive at once, each patient PATIENCE s."""
    jobs, log = queue.Queue(), []
    with socket.create_server((HOST, 0), backlog=CLIENTS) as srv:
        srv.settimeout(1.0)
        serving = threading.Thread(target=worker, args=(jobs, wait_timeout, log))
        serving.start()
        with ThreadPoolExecutor(CLIENTS) as ex:
            asks = [ex.submit(ask, srv.getsockname(), f"/{i}", PATIENCE)
                    for i in range(CLIENTS)]
            for _ in range(CLIENTS):  # the acceptor: stamp each arrival, queue it
                jobs.put((srv.accept()[0], time.monotonic()))
            answers = {f"/{i}": a.result() for i, a in enumerate(asks)}
        jobs.put(None)
        serving.join(timeout=5)
    done = dict(log)
    return {"answers": answers, "worked": sum(v == "worked" for v in done.values()),
            "dropped": sum(v == "dropped" for v in done.values()),
            "wasted": sum(done.get(p) == "worked" for p, a in answers.items()
                          if a == "gave up")}  # work for a client that had left


def measure() -> dict:
    with ThreadPoolExecutor(2) as ex:  # both servers side by side
        without, with_one = ex.map(run, [None, WAIT])
    return {"no wait timeout": without, f"wait timeout {WAIT} s": with_one}


def gave_up(x: dict) -> int:
    return sum(a == "gave up" for a in x["answers"].values())


def claims(r: dict) -> list[Claim]:
    no, wt = r.values()
    return [ALL_WORKED.of(no["worked"]), WASTED.of(no["wasted"]),
            ALL_HANDLED.of(wt["worked"] + wt["dropped"]), DROPPED.of(wt["dropped"]),
            ANSWERED.of(gave_up(wt)), NOT_WASTED.of(wt["wasted"])]


def main() -> None:
    r = check_timing(measure, claims)
    print(f"one worker, {WORK} s of work per request; {CLIENTS} clients arrive at "
          f"once, each gives up after {PATIENCE} s")
    print(table(["server", "worked", "dropped (503)", "clients gave up",
                 "work for clients gone"],
                [[name, x["worked"], x["dropped"],
                  gave_up(x), x["wasted"]]
                 for name, x in r.result.items()]))
    publish(r.claims)


if __name__ == "__main__":
    main()
