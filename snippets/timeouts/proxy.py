"""A proxy whose upstream timeout is shorter than the work answers 504, and every
retry, by the client or by the proxy, makes the backend do the work again."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.timeouts._servers import OK, WorkerPool, ask, read_head, reply

WORK = 0.3  # what the backend spends on each request it receives, in seconds
# name: (the proxy's upstream timeout, tries per request, client retries on 504)
CASES = {"timeout > work": (0.6, 1, 0), "timeout < work": (0.15, 1, 0),
         "+ client retries 2x": (0.15, 1, 2), "+ proxy tries 2x": (0.15, 2, 2)}


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
        with socket.create_connection(upstream, timeout=timeout) as up:
            up.sendall(head)
            try:
                conn.sendall(up.recv(4096))  # relay the backend's answer
                return "relayed"
            except TimeoutError:
                continue
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
    ev = {n: f"answers {x['answers']}, backend started {x['started']}, "
             f"finished {x['finished']}" for n, x in r.items()}
    return [
        Claim("an upstream timeout longer than the work relays the 200",
              ev["timeout > work"], ok["answers"] == ["200"] and ok["started"] == 1,
              timing=True),
        Claim("an upstream timeout shorter than the work answers 504, while the "
              "backend finishes the work anyway", ev["timeout < work"],
              short["answers"] == ["504"] and short["finished"] == 1, timing=True),
        Claim("a client that retries twice makes the backend work 3 times",
              ev["+ client retries 2x"], client["answers"] == ["504"] * 3
              and client["started"] == client["finished"] == 3, timing=True),
        Claim("a proxy that also tries twice doubles it: 6 times per client request",
              ev["+ proxy tries 2x"], both["started"] == 6 and both["finished"] == 6,
              timing=True),
    ]


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
