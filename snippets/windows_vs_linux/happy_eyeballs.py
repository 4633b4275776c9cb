"""A server on IPv4 only, a name resolving to [::1, 127.0.0.1]: on Linux ::1 is
refused at once, so a sequential client connects as fast as Happy Eyeballs. Over a
MODEL of Windows (not Windows: our own 2 s sleep before each refusal is reported),
asyncio's Happy Eyeballs abandons ::1 after its delay and stays fast."""

from __future__ import annotations

import asyncio
import socket
import time

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    NotMeasurable,
    at_least,
    below,
    between,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.windows_vs_linux._chart import attempts
from snippets.windows_vs_linux._dual import PORT, in_namespace

DELAY, REFUSED_AFTER = 0.25, 2.0  # RFC 8305's 250 ms; the model's 2 s refusal
ADDRS = [(socket.AF_INET6, ("::1", PORT, 0, 0)), (socket.AF_INET, ("127.0.0.1", PORT))]
MS = f"{DELAY * 1000:.0f} ms"
LINUX_SEQ = finding("linux-sequential-fast", "Linux: ::1 is refused at once, so the "
                    f"sequential client reaches 127.0.0.1 in {{bound}}, before a {MS} "
                    "Happy Eyeballs delay would even start IPv4", below(DELAY * 1000),
                    unit="ms", timing=True)
LINUX_HE = finding("linux-he-fast", "Linux: asyncio's Happy Eyeballs starts IPv4 as "
                   f"soon as ::1 is refused, not after its {MS} delay: {{bound}}",
                   below(DELAY * 1000), unit="ms", timing=True)
MODEL_HE = finding("model-he-bounded", "over the MODEL of Windows, asyncio's Happy "
                   f"Eyeballs waits its {MS} delay, then abandons ::1 and connects to "
                   "127.0.0.1: {bound}", between(DELAY, 1.0), unit="s", timing=True)
MODEL_SEQ = check("model-sequential-waits", "the MODEL delays each refusal as built:"
                  " the sequential client over it takes {bound}",
                  at_least(REFUSED_AFTER), unit="s")
PEERS = check("clients-reach-ipv4", "all four clients connected to the server, on "
              "{bound}", equals("127.0.0.1"))
CLAIMS = [LINUX_SEQ, LINUX_HE, MODEL_HE, MODEL_SEQ, PEERS]


class Loop(asyncio.SelectorEventLoop):
    """Resolves every name to ADDRS and records each attempt. With `windows`, it is
    a MODEL: a refused connect is reported only REFUSED_AFTER s after it began."""

    def __init__(self, windows: bool):
        super().__init__()
        self.windows, self.spans, self.t0 = windows, [], time.monotonic()

    async def getaddrinfo(self, *args, **kwargs):
        return [(f, socket.SOCK_STREAM, 6, "", a) for f, a in ADDRS]

    async def sock_connect(self, sock, address):
        start, outcome = time.monotonic() - self.t0, "connected"
        try:
            await super().sock_connect(sock, address)
        except ConnectionRefusedError:
            outcome = "refused"
            if self.windows:  # the MODEL: the refusal surfaces only later...
                outcome = "abandoned"  # ...unless Happy Eyeballs gives up first
                await asyncio.sleep(start + REFUSED_AFTER
                                    - (time.monotonic() - self.t0))
                outcome = "refused"
            raise
        except asyncio.CancelledError:
            outcome = "abandoned"
            raise
        finally:
            self.spans.append((address[0], start, time.monotonic() - self.t0, outcome))


def connect(windows: bool, delay: float | None) -> dict:
    loop = Loop(windows)

    async def go():
        transport, _ = await loop.create_connection(asyncio.Protocol, "dual", PORT,
                                                    happy_eyeballs_delay=delay)
        peer = transport.get_extra_info("peername")[0]
        transport.close()
        return peer, time.monotonic() - loop.t0
    try:
        peer, seconds = loop.run_until_complete(asyncio.wait_for(go(), 5))
    finally:
        loop.close()
    return {"peer": peer, "seconds": seconds, "spans": sorted(loop.spans,
                                                             key=lambda s: s[1])}


def clients() -> dict:
    return {f"{'Windows MODEL' if w else 'Linux'}, {name}": connect(w, d)
            for w in (False, True)
            for name, d in (("sequential", None), ("Happy Eyeballs", DELAY))}


def measure() -> dict:
    return in_namespace(clients)


def claims(r: dict) -> list[Claim]:
    lin_seq, lin_he, seq, he = (x["seconds"] for x in r.values())
    return [LINUX_SEQ.of(lin_seq * 1000), LINUX_HE.of(lin_he * 1000),
            MODEL_HE.of(he), MODEL_SEQ.of(seq),
            PEERS.of(", ".join(sorted({x["peer"] for x in r.values()})))]


def main() -> None:
    try:
        checked = check_timing(measure, claims, attempts=2)
    except NotMeasurable as why:
        return publish_unmeasured(CLAIMS, why)
    r = checked.result
    print(table(["client", "connected to", "seconds", "attempts"],
                [[name, v["peer"], f"{v['seconds']:.2f}",
                  " → ".join(f"{h} {o}" for h, _, _, o in v["spans"])]
                 for name, v in r.items()]))
    lanes = [(f"{name}: {h}", b, e, o)
             for name, v in r.items() for h, b, e, o in v["spans"]]
    chart = attempts("Connect attempts, server on 127.0.0.1 only", lanes,
                     [(DELAY, f"Happy Eyeballs delay, {MS}")])
    publish(checked.claims, figures={"happy_eyeballs": chart})


if __name__ == "__main__":
    main()
