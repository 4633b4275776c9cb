"""After the server's idle close, send() still succeeds; the reset it draws fails
the next one."""

from __future__ import annotations

import socket
import time
from collections import namedtuple

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.timeouts._servers import WorkerPool, get, keep_alive

IDLE = 0.2  # the server closes a keep-alive connection after this much quiet
GET = get("/balance")
# first, retry: status lines; sent: what send() returned after the idle close;
# reply: what recv() then got; next_send: what the send after that raised;
# answered: how many requests the server answered on the first connection;
# states: the client socket's TCP state before the send and after the recv
Race = namedtuple("Race", "first sent reply next_send answered retry states")
STATES = {1: "ESTABLISHED", 7: "CLOSE", 8: "CLOSE_WAIT"}  # include/net/tcp_states.h


def state(conn: socket.socket) -> str:
    code = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]  # tcpi_state
    return STATES.get(code, str(code))


def status(conn: socket.socket) -> bytes:
    return conn.recv(1024).split(b"\r\n")[0]


def measure() -> Race:
    with WorkerPool(keep_alive, idle=IDLE) as pool:
        with socket.create_connection(pool.address, timeout=1) as c:
            c.sendall(GET)
            first = status(c)
            time.sleep(2 * IDLE)  # the connection sits in the client's pool, idle
            before = state(c)  # the server's FIN has arrived meanwhile
            sent = c.send(GET)  # no error: the bytes only go to our own kernel
            reply = c.recv(1024)  # the FIN: end of stream
            time.sleep(0.05)  # the server's kernel answers those bytes with a RST
            after = state(c)
            try:
                c.send(GET)
                next_send = "no error"
            except OSError as e:
                next_send = type(e).__name__
        with socket.create_connection(pool.address, timeout=1) as c:
            c.sendall(GET)  # a GET is idempotent: retrying it is safe
            retry = status(c)
    done = min(pool.spans, key=lambda s: s.start)  # the first connection's span
    return Race(first, sent, reply, next_send, int(done.kind.split()[1]), retry,
                (before, after))


def claims(r: Race) -> list[Claim]:
    return [
        Claim("the first request on the connection is answered", r.first.decode(),
              r.first == b"HTTP/1.1 200 OK"),
        Claim("after the server's idle close the client socket is in CLOSE_WAIT "
              "(the FIN arrived), yet send() succeeds",
              f"{r.states[0]}; send() returned {r.sent} of {len(GET)} bytes",
              r.states[0] == "CLOSE_WAIT" and r.sent == len(GET), timing=True),
        Claim("recv() then returns EOF: the FIN, not a response", repr(r.reply),
              r.reply == b""),
        Claim("the server's kernel answers the request bytes with a reset: the "
              "socket is now CLOSE", r.states[1], r.states[1] == "CLOSE",
              timing=True),
        Claim("so the next send fails with EPIPE", r.next_send,
              r.next_send == "BrokenPipeError", timing=True),
        Claim("the server answered exactly one request on that connection",
              f"{r.answered}", r.answered == 1),
        Claim("the same GET retried on a fresh connection is answered",
              r.retry.decode(), r.retry == b"HTTP/1.1 200 OK"),
    ]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    rows = [["1. GET on a new connection", r.first.decode()],
            [f"2. idle {2 * IDLE:.1f} s (server closes at {IDLE} s)", "-"],
            ["3. send() the next GET", f"{r.states[0]}: {r.sent} bytes, no error"],
            ["4. recv() its response", repr(r.reply) + " (EOF)"],
            ["5. send() again", f"{r.states[1]}: {r.next_send}"],
            ["6. retry the GET on a new connection", r.retry.decode()]]
    print(table(["step", "result"], rows))
    print(f"requests the server answered on the first connection: {r.answered}")
    publish(checked.claims)


if __name__ == "__main__":
    main()
