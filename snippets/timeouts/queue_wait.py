"""A wait timeout drops a request that queued too long, before any work is done."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.timeouts._servers import HOST, OK, ask, read_head, reply

CLIENTS, WORK, WAIT, PATIENCE = 8, 0.1, 0.2, 0.5  # one worker; seconds


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


def claims(r: dict) -> list[Claim]:
    no, wt = r.values()
    ev = [f"{x['worked']} worked, {x['dropped']} dropped, {x['wasted']} worked for "
          f"clients gone; answers {sorted(set(x['answers'].values()))}"
          for x in r.values()]
    return [
        Claim("without a wait timeout the worker does every request", ev[0],
              no["worked"] == CLIENTS and no["dropped"] == 0),
        Claim("...including work for clients that had already given up", ev[0],
              no["wasted"] >= 1, timing=True),
        Claim("with one, late requests are dropped before work starts, and their "
              "clients get a 503 instead of waiting out their patience", ev[1],
              wt["dropped"] >= 1 and wt["worked"] + wt["dropped"] == CLIENTS
              and sorted(set(wt["answers"].values())) == ["200", "503"], timing=True),
        Claim("no work is done for a client that has given up", ev[1],
              wt["wasted"] == 0, timing=True),
    ]


def main() -> None:
    r = check_timing(measure, claims)
    print(f"one worker, {WORK} s of work per request; {CLIENTS} clients arrive at "
          f"once, each gives up after {PATIENCE} s")
    print(table(["server", "worked", "dropped (503)", "clients gave up",
                 "work for clients gone"],
                [[name, x["worked"], x["dropped"],
                  sum(a == "gave up" for a in x["answers"].values()), x["wasted"]]
                 for name, x in r.result.items()]))
    publish(r.claims)


if __name__ == "__main__":
    main()
