"""After the server's idle close, send() still succeeds; the reset it draws fails
the next one."""

from __future__ import annotations

import socket
import time
from collections import namedtuple

from snippets.measure import check_timing
from snippets.report import Claim, check, equals, finding, publish, table
from snippets.timeouts._servers import WorkerPool, get, keep_alive

IDLE = 0.2  # the server closes a keep-alive connection after this much quiet
GET = get("/balance")
# first, retry: status lines; sent, next_send: what the send() after the idle close,
# and the one after the recv, returned (bytes taken) or raised; reply: what recv()
# got; answered: requests the server answered on the first connection; states: the
# client socket's TCP state before the send and after the recv
Race = namedtuple("Race", "first sent reply next_send answered retry states")
STATES = {1: "ESTABLISHED", 7: "CLOSE", 8: "CLOSE_WAIT"}  # include/net/tcp_states.h
OK = "HTTP/1.1 200 OK"

ANSWERED = check("first-and-retry-answered", "the first GET and its retry on a fresh "
                 "connection are answered 200: {bound} of 2", equals(2))
FIN_IN = finding("close-wait-before-send", "after the server's idle close the client "
                 "socket is in {bound}: the FIN has arrived", equals("CLOSE_WAIT"),
                 timing=True)
SEND_OK = finding("send-succeeds", "send() after the server's idle close still "
                  "succeeds: bytes taken {bound}", equals(len(GET)))
AT_EOF = finding("recv-eof", "recv() after that send returns {bound}: the FIN, not a "
                 "response", equals("EOF"))
RESET = finding("reset-closes", "the server's kernel answers the request bytes with a "
                "reset: the client socket is now {bound}", equals("CLOSE"), timing=True)
EPIPE = finding("next-send-epipe", "the next send() after the reset fails with "
                "{bound}", equals("BrokenPipeError"), timing=True)
ONE = check("server-answered-one", "requests the server answered on that connection: "
            "{bound}", equals(1), timing=True)


def state(conn: socket.socket) -> str:
    code = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]  # tcpi_state
    return STATES.get(code, str(code))


def outcome(call, *args) -> int | str:
    """What call(*args) returned, or the name of the error it raised."""
    try:
        return call(*args)
    except OSError as e:
        return type(e).__name__


def status(conn: socket.socket) -> bytes:
    return conn.recv(1024).split(b"\r\n")[0]


def measure() -> Race:
    with WorkerPool(keep_alive, idle=IDLE) as pool:
        with socket.create_connection(pool.address, timeout=1) as c:
            c.sendall(GET)
            first = status(c)
            time.sleep(2 * IDLE)  # the connection sits in the client's pool, idle
            before = state(c)  # the server's FIN has arrived meanwhile
            sent = outcome(c.send, GET)  # our own kernel takes the bytes
            reply = c.recv(1024)  # the FIN: end of stream
            time.sleep(0.05)  # the server's kernel answers those bytes with a RST
            after = state(c)
            next_send = outcome(c.send, GET)
        with socket.create_connection(pool.address, timeout=1) as c:
            c.sendall(GET)  # a GET is idempotent: retrying it is safe
            retry = status(c)
    done = min(pool.spans, key=lambda s: s.start)  # the first connection's span
    reply = reply.split(b"\r\n")[0].decode() or "EOF"
    return Race(first.decode(), sent, reply, next_send,
                int(done.kind.split()[1]), retry.decode(), (before, after))


def claims(r: Race) -> list[Claim]:
    return [ANSWERED.of([r.first, r.retry].count(OK)), FIN_IN.of(r.states[0]),
            SEND_OK.of(r.sent), AT_EOF.of(r.reply), RESET.of(r.states[1]),
            EPIPE.of(r.next_send), ONE.of(r.answered)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    def said(x: int | str) -> str:  # send()'s byte count, or the error it raised
        return f"{x} bytes, no error" if isinstance(x, int) else x

    rows = [["1. GET on a new connection", r.first],
            [f"2. idle {2 * IDLE:.1f} s (server closes at {IDLE} s)", "-"],
            ["3. send() the next GET", f"{r.states[0]}: {said(r.sent)}"],
            ["4. recv() its response", r.reply],
            ["5. send() again", f"{r.states[1]}: {said(r.next_send)}"],
            ["6. retry the GET on a new connection", r.retry]]
    print(table(["step", "result"], rows))
    print(f"requests the server answered on the first connection: {r.answered}")
    publish(checked.claims)


if __name__ == "__main__":
    main()
