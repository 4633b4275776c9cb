"""A per-recv timeout is no budget: a trickling reply outlasts it; a deadline holds."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from snippets.measure import check_timing, timed
from snippets.report import Claim, at_least, between, check, finding, publish, table
from snippets.timeouts._servers import WorkerPool, get, read_head

BUDGET = 0.5  # what every client is willing to wait for a response, in seconds
SILENT, CHUNKS, GAP = 1.0, 12, 0.1  # /silent: mute for SILENT s; then 1 byte per GAP s
PER_RECV, LOOP, AIO = (f"per-recv timeout {BUDGET} s", f"deadline loop {BUDGET} s",
                       f"asyncio.timeout({BUDGET})")
CASES = [(PER_RECV, "/silent"), (PER_RECV, "/trickle"), (LOOP, "/trickle"),
         (AIO, "/trickle")]  # (client, handler)

SILENCE = check("per-recv-catches-silence", "a per-recv timeout gives up on a silent "
                "server at its budget: {bound}", between(0.8, 2.0), unit="x",
                fmt=".1f", timing=True)
TRICKLE = finding("per-recv-outlasted", "a per-recv timeout waits {bound} its budget "
                  f"when a byte arrives every {GAP} s", at_least(2.0), unit="x",
                  fmt=".1f", timing=True)
LOOP_CUT = check("deadline-loop-cuts", "a deadline loop gives up on the trickle at its "
                 "budget: {bound}", between(0.8, 2.0), unit="x", fmt=".1f",
                 timing=True)
AIO_CUT = finding("asyncio-timeout-cuts", "asyncio.timeout gives up on the trickle at "
                  "its budget: {bound}", between(0.8, 2.0), unit="x", fmt=".1f",
                  timing=True)


def slow(conn: socket.socket, pool: WorkerPool) -> str:
    head = read_head(conn, deadline=1.0) or b""
    pool.stopping.wait(SILENT if head.startswith(b"GET /silent") else 0)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % CHUNKS)
    for _ in range(CHUNKS):
        pool.stopping.wait(GAP)  # a sleep that the pool's shutdown cuts short
        conn.sendall(b".")
    return "slow"


def ask(addr, client: str, path: str) -> str:
    """Read the whole response (the server closes after it) within BUDGET, or not."""
    end = time.monotonic() + BUDGET
    try:
        if client == AIO:
            return asyncio.run(ask_async(addr, path))
        with socket.create_connection(addr, timeout=BUDGET) as s:
            s.sendall(get(path))
            while True:
                if client == LOOP:  # a deadline: each wait gets only what is left
                    s.settimeout(max(end - time.monotonic(), 1e-3))
                if not s.recv(4096):
                    return "complete"
    except TimeoutError:
        return "timed out"


async def ask_async(addr, path: str) -> str:
    async with asyncio.timeout(BUDGET):  # one budget for connect, send and read
        reader, writer = await asyncio.open_connection(*addr)
        with contextlib.closing(writer):
            writer.write(get(path))
            await reader.read()  # until EOF
    return "complete"


def measure() -> list[tuple[float, str]]:  # (seconds, outcome) for each of CASES
    with WorkerPool(slow, len(CASES)) as pool, ThreadPoolExecutor(len(CASES)) as ex:
        return list(ex.map(timed, [partial(ask, pool.address, *c) for c in CASES]))


def claims(r: list[tuple[float, str]]) -> list[Claim]:
    (silent, _), (trickle, _), (loop, _), (aio, _) = r
    return [SILENCE.of(silent / BUDGET), TRICKLE.of(trickle / BUDGET),
            LOOP_CUT.of(loop / BUDGET), AIO_CUT.of(aio / BUDGET)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"every client's budget: {BUDGET} s; /trickle sends a byte every {GAP} s")
    rows = [[client, path, outcome, f"{s:.1f}", f"{s / BUDGET:.1f}x"]
            for (client, path), (s, outcome) in zip(CASES, r)]
    print(table(["client", "handler", "outcome", "seconds", "x budget"], rows))
    publish(checked.claims)


if __name__ == "__main__":
    main()
