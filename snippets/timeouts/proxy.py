"""A proxy whose upstream timeout is shorter than the work answers 504, and every
retry, by the client or by the proxy, makes the backend do the work again."""

from __future__ import annotations

import contextlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import Claim, check, equals, finding, publish, table
from snippets.timeouts._servers import OK, WorkerPool, ask, read_head, reply

WORK = 0.3  # what the backend spends on each request it receives, in seconds
# name: (the proxy's upstream timeout, tries per request, client retries on 504)
CASES = {"timeout > work": (0.6, 1, 0), "timeout < work": (0.15, 1, 0),
         "+ client retries 2x": (0.15, 1, 2), "+ proxy tries 2x": (0.15, 2, 2)}

RELAYS = check("long-timeout-relays", "an upstream timeout longer than the work "
               "relays the backend's answer: the client gets {bound}", equals(["200"]))
GIVES_504 = finding("short-timeout-504", "an upstream timeout shorter than the work "
                    "answers the client {bound}", equals(["504"]), timing=True)
FINISHES = finding("backend-finishes", "the backend, never told, still finishes the "
                   "request the proxy answered 504 for: {bound} of 1", equals(1),
                   timing=True)
MULTIPLIES = finding("retries-multiply", "retries multiply the work: with the client "
                     "retrying twice, then the proxy also trying twice, the backend "
                     "finishes it {bound} times", equals([3, 6]), timing=True)


def backend(conn, pool: WorkerPool, log: list) -> str:
    read_head(conn, deadline=1.0)
    log.append("started")
    pool.stopping.wait(WORK)  # the work; the proxy may stop waiting meanwhile
    log.append("finished")
    conn.sendall(OK)  # to a proxy that may have hung up: nobody reads it
    return "work"


def proxy(conn, pool: WorkerPool, upstream, timeout: float, tries: int) -> str:
    head = read_head(conn, deadline=1.0)
    for _ in range(tries):  # like nginx's proxy_next_upstream on "timeout"
        with (socket.create_connection(upstream, timeout=timeout) as up,
              contextlib.suppress(TimeoutError)):  # a timeout: try again, or 504
            up.sendall(head)
            conn.sendall(up.recv(4096))  # relay the backend's answer
            return "relayed"
    conn.sendall(reply(504, "Gateway Timeout"))
    return "504"


def run(timeout: float, tries: int, retries: int) -> dict:
    log: list[str] = []
    with (WorkerPool(backend, 8, log=log) as back,
          WorkerPool(proxy, 2, upstream=back.address, timeout=timeout,
                     tries=tries) as front):
        answers = [ask(front.address, "/order", 3.0)]
        while answers[-1] == "504" and len(answers) <= retries:
            answers.append(ask(front.address, "/order", 3.0))  # the client retries
        end = time.monotonic() + WORK + 1  # let the backend finish what it started
        while log.count("finished") < log.count("started") < 99:
            time.sleep(0.02)
            if time.monotonic() > end:
                break
    return {"answers": answers, "started": log.count("started"),
            "finished": log.count("finished")}


def measure() -> dict:
    with ThreadPoolExecutor(len(CASES)) as ex:  # each case has its own servers
        return dict(zip(CASES, ex.map(run, *zip(*CASES.values()))))


def claims(r: dict) -> list[Claim]:
    ok, short, client, both = (r[name] for name in CASES)
    return [RELAYS.of(ok["answers"]), GIVES_504.of(short["answers"]),
            FINISHES.of(short["finished"]),
            MULTIPLIES.of([client["finished"], both["finished"]])]


def main() -> None:
    r = check_timing(measure, claims)
    print(f"the backend works {WORK} s per request; each case has its own servers")
    rows = [[name, f"{t} s", tries, retries, " ".join(x["answers"]), x["started"]]
            for (name, (t, tries, retries)), x in zip(CASES.items(),
                                                      r.result.values())]
    print(table(["case", "upstream timeout", "proxy tries", "client retries",
                 "client got", "backend did"], rows))
    publish(r.claims)


if __name__ == "__main__":
    main()
