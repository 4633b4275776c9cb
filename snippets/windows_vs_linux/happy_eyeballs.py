"""A server on IPv4 only, a name that resolves to [::1, 127.0.0.1]: on Linux ::1 is
refused at once, so sequential and Happy Eyeballs clients (asyncio, curl) connect at
once; in a MODEL of Windows, where a refused attempt takes 2 s, only Happy Eyeballs
stays fast."""

from __future__ import annotations

import asyncio
import http.server
import shutil
import socket
import subprocess
import threading
import time

from snippets import netns
from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.svg import timeline

PORT, DELAY, REFUSED_AFTER = 8000, 0.25, 2.0  # RFC 8305's 250 ms; the model's 2 s
ADDRS = [(socket.AF_INET6, ("::1", PORT, 0, 0)), (socket.AF_INET, ("127.0.0.1", PORT))]


class Loop(asyncio.SelectorEventLoop):
    """Resolves every name to ADDRS; records each attempt; `windows` models a kernel
    that reports a refused connect only after REFUSED_AFTER seconds (a MODEL)."""

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
            if self.windows:  # the MODEL: the refusal surfaces only later
                outcome = "abandoned"  # unless Happy Eyeballs cancels us first
                await asyncio.sleep(REFUSED_AFTER - (time.monotonic() - self.t0
                                                     - start))
                outcome = "refused"
            raise
        except asyncio.CancelledError:
            outcome = "abandoned"
            raise
        finally:
            self.spans.append((address[0], start, time.monotonic() - self.t0, outcome))


def asyncio_client(windows: bool, delay: float | None) -> dict:
    loop = Loop(windows)
    try:
        async def go():
            w, _ = await loop.create_connection(asyncio.Protocol, "dual", PORT,
                                                happy_eyeballs_delay=delay)
            peer = w.get_extra_info("peername")[0]
            w.close()
            return peer, time.monotonic() - loop.t0
        peer, seconds = loop.run_until_complete(asyncio.wait_for(go(), 5))
    finally:
        loop.close()
    return {"peer": peer, "seconds": seconds, "spans": loop.spans}


def curl(he_ms: int) -> dict:
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                          "%{time_connect} %{remote_ip}", "--happy-eyeballs-timeout-ms",
                          str(he_ms), "--resolve", f"dual:{PORT}:[::1],127.0.0.1",
                          f"http://dual:{PORT}/"], capture_output=True, text=True,
                         timeout=10).stdout.split()
    return {"peer": out[1], "seconds": float(out[0])} if len(out) == 2 else {}


class Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # curl only needs the connection
        pass


def everything() -> dict:
    srv = http.server.HTTPServer(("127.0.0.1", PORT), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        runs = {f"{'Windows MODEL' if w else 'Linux'}, {name}":
                asyncio_client(w, d) for w in (False, True)
                for name, d in (("sequential", None), ("Happy Eyeballs", DELAY))}
        with socket.create_server(("::1", PORT), family=socket.AF_INET6, backlog=0), \
                socket.create_connection(("::1", PORT)):  # ::1 now drops SYNs
            silent = curl(200) if shutil.which("curl") else {}
        refused = curl(1000) if shutil.which("curl") else {}
    finally:
        srv.shutdown()
    return {"asyncio": runs, "curl refused ::1, timeout 1000 ms": refused,
            "curl silent ::1, timeout 200 ms": silent}


def measure() -> dict:
    try:
        return {**netns.run(everything, timeout=20), "reason": None}
    except netns.Unavailable as exc:
        return {"reason": f"not measured here: {exc.reason}"}


def claims(r: dict) -> list[Claim]:
    s = [f"Linux: ::1 is refused and both clients connect to 127.0.0.1 before the "
         f"{DELAY * 1000:.0f} ms Happy Eyeballs delay would start it",
         f"Windows MODEL: sequential waits at least {REFUSED_AFTER:.0f} s; Happy "
         f"Eyeballs connects after the {DELAY * 1000:.0f} ms delay, under 1 s",
         "curl, ::1 refused: 127.0.0.1 connects in under half its 1000 ms timeout",
         "curl, ::1 silently dropping: 127.0.0.1 connects after its 200 ms timeout"]
    if r["reason"]:
        return [Claim.not_checked(x, r["reason"]) for x in s]
    a = r["asyncio"]
    lin = [a["Linux, sequential"], a["Linux, Happy Eyeballs"]]
    seq, he = a["Windows MODEL, sequential"], a["Windows MODEL, Happy Eyeballs"]
    out = [Claim(s[0], ", ".join(f"{x['peer']} at {x['seconds'] * 1000:.1f} ms"
                                 for x in lin),
                 all(x["peer"] == "127.0.0.1" and x["seconds"] < DELAY
                     and x["spans"][0][3] == "refused" for x in lin), timing=True),
           Claim(s[1], f"{seq['seconds']:.2f} s vs {he['seconds']:.2f} s",
                 seq["peer"] == he["peer"] == "127.0.0.1"
                 and seq["seconds"] >= REFUSED_AFTER
                 and DELAY <= he["seconds"] < 1.0, timing=True)]
    for x, key, ok in ((s[2], "curl refused ::1, timeout 1000 ms", lambda t: t < 0.5),
                       (s[3], "curl silent ::1, timeout 200 ms", lambda t: t >= 0.2)):
        got = r[key]
        if not got:
            out.append(Claim.not_checked(x, "curl is not installed: "
                                            "apt-get install curl"))
        else:
            out.append(Claim(x, f"{got['peer']} at {got['seconds'] * 1000:.0f} ms",
                             got["peer"] == "127.0.0.1" and ok(got["seconds"]),
                             timing=True))
    return out


def main() -> None:
    checked = check_timing(measure, claims, attempts=2)
    r = checked.result
    if r["reason"]:
        print(r["reason"])
        publish(checked.claims)
        return
    rows = [[name, v["peer"], f"{v['seconds']:.2f}",
             " → ".join(f"{h} {o}" for h, _, _, o in sorted(v["spans"],
                                                            key=lambda x: x[1]))]
            for name, v in r["asyncio"].items()]
    rows += [[k, v.get("peer", "-"), f"{v['seconds']:.2f}" if v else "-", "-"]
             for k, v in r.items() if k.startswith("curl")]
    print(table(["client", "connected to", "seconds", "attempts"], rows))
    lanes = [(f"{name}: {h}", [(b, e, o)])
             for name, v in r["asyncio"].items() for h, b, e, o in v["spans"]]
    chart = timeline("Connect attempts, server on 127.0.0.1 only", lanes)
    publish(checked.claims, figures={"happy_eyeballs": chart})


if __name__ == "__main__":
    main()
