"""After the server's idle timeout, send() still succeeds; only recv() can tell."""

from __future__ import annotations

import socket
import time
from collections import namedtuple

from snippets.report import Claim, publish, table
from snippets.timeouts._servers import WorkerPool, get, keep_alive

IDLE = 0.2  # the server closes a keep-alive connection after this much quiet
GET = get("/balance")
# first, retry: status lines; sent: what send() returned after the idle close;
# reply: what recv() then got; next_send: what the send after that raised;
# answered: how many requests the server answered on the first connection
Race = namedtuple("Race", "first sent reply next_send answered retry")


def status(conn: socket.socket) -> bytes:
    return conn.recv(1024).split(b"\r\n")[0]


def measure() -> Race:
    with WorkerPool(keep_alive, idle=IDLE) as pool:
        with socket.create_connection(pool.address, timeout=1) as c:
            c.sendall(GET)
            first = status(c)
            time.sleep(2 * IDLE)  # the connection sits in the client's pool, idle
            sent = c.send(GET)  # the server closed it meanwhile: no error here
            reply = c.recv(1024)
            time.sleep(0.05)
            try:
                c.send(GET)
                next_send = "no error"
            except OSError as e:
                next_send = type(e).__name__
        with socket.create_connection(pool.address, timeout=1) as c:
            c.sendall(GET)  # a GET is idempotent: retrying it is safe
            retry = status(c)
    done = min(pool.spans, key=lambda s: s.start)  # the first connection's span
    return Race(first, sent, reply, next_send, int(done.kind.split()[1]), retry)


def claims(r: Race) -> list[Claim]:
    return [
        Claim("the first request on the connection is answered", r.first.decode(),
              r.first == b"HTTP/1.1 200 OK"),
        Claim("after the server's idle close, send() still succeeds",
              f"send() returned {r.sent} of {len(GET)} bytes", r.sent == len(GET)),
        Claim("recv() then returns EOF: no response will come", repr(r.reply),
              r.reply == b""),
        Claim("the send after that fails", r.next_send,
              r.next_send in ("BrokenPipeError", "ConnectionResetError")),
        Claim("the server answered exactly one request on that connection",
              f"{r.answered}", r.answered == 1),
        Claim("the same GET retried on a fresh connection is answered",
              r.retry.decode(), r.retry == b"HTTP/1.1 200 OK"),
    ]


def main() -> None:
    r = measure()
    rows = [["1. GET on a new connection", r.first.decode()],
            [f"2. idle {2 * IDLE:.1f} s (server closes at {IDLE} s)", "-"],
            ["3. send() the next GET", f"{r.sent} bytes sent, no error"],
            ["4. recv() its response", repr(r.reply) + " (EOF)"],
            ["5. send() again", r.next_send],
            ["6. retry the GET on a new connection", r.retry.decode()]]
    print(table(["step", "result"], rows))
    print(f"requests the server answered on the first connection: {r.answered}")
    publish(claims(r))


if __name__ == "__main__":
    main()
