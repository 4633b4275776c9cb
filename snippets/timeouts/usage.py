"""A usage timeout stops a request's work at its budget and frees the worker."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from snippets.measure import check_timing, timed
from snippets.report import (
    Claim,
    at_least,
    below,
    between,
    check,
    equals,
    finding,
    publish,
    table,
)
from snippets.timeouts._servers import OK, WorkerPool, ask, read_head, reply

UNITS, UNIT, BUDGET = 20, 0.05, 0.25  # /heavy needs UNITS x UNIT s; /light one UNIT

HEAVY = check("heavy-answers", "the heavy request is answered 200 without a usage "
              "timeout and 503 with one: {bound}", equals(["200", "503"]))
BLOCKED = finding("light-waits-behind", "without a usage timeout the light request "
                  "behind the heavy one waits {bound}", at_least(UNITS * UNIT / 2),
                  unit="s", fmt=".2f", timing=True)
STOPPED = finding("budget-stops-early", f"with a {BUDGET} s budget the heavy request "
                  f"stops after {{bound}} of its {UNITS} units",
                  between(1, UNITS // 2 - 1), timing=True)
FREED = finding("freed-worker-sooner", "the freed worker serves the light request in "
                "{bound} the time it waited without a budget", below(0.5), unit="x",
                fmt=".2f", timing=True)
LIGHT = check("light-answered", "servers that answer the light request with 200: "
              "{bound} of 2", equals(2))


def handle(conn, pool: WorkerPool, budget: float | None, log: dict) -> str:
    path = (read_head(conn, deadline=1.0) or b"? ?").split()[1].decode()
    need, done, start = UNITS if path == "/heavy" else 1, 0, time.monotonic()
    while done < need:
        if budget is not None and time.monotonic() - start >= budget:
            conn.sendall(reply(503, "Service Unavailable"))  # stop: budget spent
            break
        pool.stopping.wait(UNIT)  # one unit of work (a query, a computation)
        done += 1
    else:
        conn.sendall(OK)
    log[path] = done
    return path


def run(budget: float | None) -> dict:
    """One worker: a heavy request, and a light one right behind it."""
    log: dict[str, int] = {}
    with (WorkerPool(handle, 1, budget=budget, log=log) as pool,
          ThreadPoolExecutor(2) as ex):
        heavy = ex.submit(ask, pool.address, "/heavy", 3.0)
        time.sleep(UNIT)  # the heavy request holds the worker by now
        light = ex.submit(timed, lambda: ask(pool.address, "/light", 3.0))
        waited, light_status = light.result()
        return {"heavy": heavy.result(), "units": log.get("/heavy"),
                "light": light_status, "light_waited": waited}


def measure() -> dict:
    with ThreadPoolExecutor(2) as ex:  # both servers side by side
        no, yes = ex.map(run, [None, BUDGET])
    return {"no usage timeout": no, f"usage timeout {BUDGET} s": yes}


def claims(r: dict) -> list[Claim]:
    no, yes = r.values()
    return [HEAVY.of([no["heavy"], yes["heavy"]]), BLOCKED.of(no["light_waited"]),
            STOPPED.of(yes["units"]),
            FREED.of(yes["light_waited"] / no["light_waited"]),
            LIGHT.of(sum(x["light"] == "200" for x in r.values()))]


def main() -> None:
    r = check_timing(measure, claims)
    print(f"one worker; /heavy needs {UNITS} x {UNIT} s of work, /light {UNIT} s")
    print(table(["server", "heavy", "units done", "units saved", "light", "light s"],
                [[name, x["heavy"], x["units"], UNITS - x["units"], x["light"],
                  f"{x['light_waited']:.2f}"] for name, x in r.result.items()]))
    publish(r.claims)


if __name__ == "__main__":
    main()
