"""A per-recv timeout is no budget: a trickling reply outlasts it; a deadline holds."""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from snippets.report import Claim, publish, table
from snippets.timeouts._servers import OK, WorkerPool, read_head

BUDGET = 0.5  # what every client is willing to wait for a response, in seconds
SILENT, CHUNKS, GAP = 1.0, 12, 0.1  # the slow handlers: mute, or one byte every GAP s


def slow(conn: socket.socket, pool: WorkerPool) -> str:
    head = read_head(conn, deadline=1.0) or b""
    if head.startswith(b"GET /silent"):
        pool.stopping.wait(SILENT)
        conn.sendall(OK)
        return "silent"
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % CHUNKS)
    for _ in range(CHUNKS):
        if pool.stopping.wait(GAP):
            break
        conn.sendall(b".")
    return "trickle"


def ask(addr, path: str, per_recv: bool) -> str:
    """Read the whole response (the server closes after it) within BUDGET, or not."""
    end = time.monotonic() + BUDGET
    with socket.create_connection(addr, timeout=BUDGET) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: demo\r\n\r\n".encode())
        try:
            while True:
                if not per_recv:  # a deadline: each wait gets only what is left
                    s.settimeout(max(end - time.monotonic(), 1e-3))
                if not s.recv(4096):
                    return "complete"
        except TimeoutError:
            return "timed out"


async def ask_async(addr, path: str) -> str:
    try:
        async with asyncio.timeout(BUDGET):  # one budget for connect, send and read
            reader, writer = await asyncio.open_connection(*addr)
            try:
                writer.write(f"GET {path} HTTP/1.1\r\nHost: demo\r\n\r\n".encode())
                await reader.read()  # until EOF
            finally:
                writer.close()
        return "complete"
    except TimeoutError:
        return "timed out"


@dataclass(frozen=True)
class Run:
    client: str
    handler: str
    outcome: str
    seconds: float


CASES = [(f"per-recv timeout {BUDGET} s", "/silent"),
         (f"per-recv timeout {BUDGET} s", "/trickle"),
         (f"deadline loop {BUDGET} s", "/trickle"),
         (f"asyncio.timeout({BUDGET})", "/trickle")]


def measure() -> list[Run]:
    def timed(case: tuple[str, str]) -> Run:
        client, path = case
        t0 = time.monotonic()
        if client.startswith("asyncio"):
            outcome = asyncio.run(ask_async(pool.address, path))
        else:
            outcome = ask(pool.address, path, per_recv=client.startswith("per-recv"))
        return Run(client, path, outcome, time.monotonic() - t0)

    with WorkerPool(slow, workers=len(CASES)) as pool:
        with ThreadPoolExecutor(len(CASES)) as ex:
            return list(ex.map(timed, CASES))


def claims(r: list[Run]) -> list[Claim]:
    silent, trickle, loop, aio = r
    ev = [f"{x.outcome} after {x.seconds:.2f} s" for x in r]
    return [
        Claim("a per-recv timeout catches a server that says nothing", ev[0],
              silent.outcome == "timed out" and 0.4 <= silent.seconds <= 1.0),
        Claim("a per-recv timeout waits far past its budget when bytes trickle", ev[1],
              trickle.outcome == "complete" and trickle.seconds >= 2 * BUDGET),
        Claim("a deadline loop gives up at its budget", ev[2],
              loop.outcome == "timed out" and 0.4 <= loop.seconds <= 1.0),
        Claim("asyncio.timeout gives up at its budget", ev[3],
              aio.outcome == "timed out" and 0.4 <= aio.seconds <= 1.0),
    ]


def main() -> None:
    r = measure()
    print(f"every client's budget: {BUDGET} s; /trickle sends a byte every {GAP} s")
    print(table(["client", "handler", "outcome", "seconds", "x budget"],
                [[x.client, x.handler, x.outcome, f"{x.seconds:.1f}",
                  f"{x.seconds / BUDGET:.1f}x"] for x in r]))
    publish(claims(r))


if __name__ == "__main__":
    main()
