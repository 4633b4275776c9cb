"""A server on IPv4 only, a name resolving to [::1, 127.0.0.1]: on Linux ::1 is
refused at once, so a sequential client connects as fast as Happy Eyeballs; in a
MODEL of Windows, where a refusal takes 2 s, only Happy Eyeballs stays fast."""

from __future__ import annotations

import asyncio
import socket
import time

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.svg import timeline
from snippets.windows_vs_linux._dual import PORT, in_namespace

DELAY, REFUSED_AFTER = 0.25, 2.0  # RFC 8305's 250 ms; the model's 2 s refusal
ADDRS = [(socket.AF_INET6, ("::1", PORT, 0, 0)), (socket.AF_INET, ("127.0.0.1", PORT))]


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
    s = [f"Linux: ::1 is refused and both clients reach 127.0.0.1 before the "
         f"{DELAY * 1000:.0f} ms Happy Eyeballs delay",
         f"Windows MODEL: sequential waits at least {REFUSED_AFTER:.0f} s; Happy "
         f"Eyeballs connects after its {DELAY * 1000:.0f} ms delay, under 1 s"]
    if r["reason"]:
        return [Claim.not_checked(x, r["reason"]) for x in s]
    lin_seq, lin_he, seq, he = r["result"].values()
    return [Claim(s[0], f"{lin_seq['seconds'] * 1000:.1f} ms and "
                  f"{lin_he['seconds'] * 1000:.1f} ms",
                  all(x["peer"] == "127.0.0.1" and x["seconds"] < DELAY
                      and x["spans"][0][3] == "refused" for x in (lin_seq, lin_he)),
                  timing=True),
            Claim(s[1], f"{seq['seconds']:.2f} s vs {he['seconds']:.2f} s",
                  seq["peer"] == he["peer"] == "127.0.0.1"
                  and seq["seconds"] >= REFUSED_AFTER
                  and DELAY <= he["seconds"] < 1.0, timing=True)]


def main() -> None:
    checked = check_timing(measure, claims, attempts=2)
    r = checked.result
    if r["reason"]:
        print(r["reason"])
        publish(checked.claims)
        return
    print(table(["client", "connected to", "seconds", "attempts"],
                [[name, v["peer"], f"{v['seconds']:.2f}",
                  " → ".join(f"{h} {o}" for h, _, _, o in v["spans"])]
                 for name, v in r["result"].items()]))
    lanes = [(f"{name}: {h}", [(b, e, o)])
             for name, v in r["result"].items() for h, b, e, o in v["spans"]]
    chart = timeline("Connect attempts, server on 127.0.0.1 only", lanes)
    publish(checked.claims, figures={"happy_eyeballs": chart})


if __name__ == "__main__":
    main()
