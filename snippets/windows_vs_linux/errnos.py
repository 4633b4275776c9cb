"""Each way a connect() can fail has its own errno, returned at once; only a silent
drop (here, a full accept queue) leaves the client waiting until its own timeout."""

from __future__ import annotations

import errno
import socket
import time

from snippets import netns
from snippets.measure import check_timing
from snippets.report import Claim, publish, table

ROUTES = {"unreachable": ("10.99.0.1", "2001:db8::1"), "prohibit": ("10.99.0.2",
          "2001:db8::2"), "blackhole": ("10.99.0.3", "2001:db8::3"),
          "throw": ("10.99.0.4", "2001:db8::4"), "no route": ("10.98.0.1",
                                                              "2001:db9::1")}
EXPECTED = {"unreachable": "EHOSTUNREACH", "prohibit": "EACCES",
            "blackhole": "EINVAL", "throw": "ENETUNREACH", "no route": "ENETUNREACH",
            "closed port": "ECONNREFUSED", "UDP to a closed port": "ECONNREFUSED",
            "full accept queue": "timed out"}
WAIT = 0.3  # the client's own timeout for the silent drop


def attempt(fam, kind, addr, timeout: float = 1.0) -> tuple[str, float]:
    with socket.socket(fam, kind) as s:
        s.settimeout(timeout)
        t0 = time.monotonic()
        try:
            s.connect(addr)
            if kind == socket.SOCK_DGRAM:  # connected UDP: the ICMP error comes back
                s.send(b"?")
                s.recv(16)
            return "connected", time.monotonic() - t0
        except TimeoutError:
            return "timed out", time.monotonic() - t0
        except OSError as exc:
            return errno.errorcode.get(exc.errno, str(exc)), time.monotonic() - t0


def every_kind() -> list:
    rows = []
    for name, (v4, v6) in ROUTES.items():
        for fam, host in ((socket.AF_INET, v4), (socket.AF_INET6, v6)):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                rows.append((name, fam.name[3:], kind.name[5:],
                             *attempt(fam, kind, (host, 80))))
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        rows.append(("closed port", fam.name[3:], "STREAM",
                     *attempt(fam, socket.SOCK_STREAM, (host, 9))))
        rows.append(("UDP to a closed port", fam.name[3:], "DGRAM",
                     *attempt(fam, socket.SOCK_DGRAM, (host, 9))))
    with socket.create_server(("127.0.0.1", 5000), backlog=0), \
            socket.create_connection(("127.0.0.1", 5000), timeout=1):  # fills it
        rows.append(("full accept queue", "INET", "STREAM",
                     *attempt(socket.AF_INET, socket.SOCK_STREAM,
                              ("127.0.0.1", 5000), timeout=WAIT)))
    return rows


def measure() -> dict:
    routes = [f"{'-6 ' if ':' in a else ''}route add {t} {a}"
              for t, addrs in ROUTES.items() if t != "no route" for a in addrs]
    try:
        return {"rows": netns.run(every_kind, routes=routes), "reason": None}
    except netns.Unavailable as exc:
        return {"rows": None, "reason": f"not checked here: {exc.reason}"}


def claims(r: dict) -> list[Claim]:
    if r["reason"]:
        return [Claim.not_checked(f"{k} gives {v}", r["reason"])
                for k, v in EXPECTED.items()]
    out = []
    for kind, want in EXPECTED.items():
        rows = [x for x in r["rows"] if x[0] == kind]
        got = sorted({x[3] for x in rows})
        out.append(Claim(f"{kind} gives {want} (TCP and UDP, IPv4 and IPv6)"
                         if kind in ROUTES else f"{kind} gives {want}",
                         f"{len(rows)} attempts: {got}", got == [want]))
    drop = [x for x in r["rows"] if x[0] == "full accept queue"][0]
    out.append(Claim(f"the silent drop ends only at the client's {WAIT} s timeout",
                     f"{drop[4]:.2f} s", drop[4] >= WAIT, timing=True))
    return out


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    if r["rows"]:
        cols = [("INET", "STREAM"), ("INET", "DGRAM"), ("INET6", "STREAM"),
                ("INET6", "DGRAM")]
        got = {(k, ip, so): (o, t) for k, ip, so, o, t in r["rows"]}
        rows = []
        for kind in EXPECTED:
            slowest = max(t for (k, *_), (_, t) in got.items() if k == kind)
            rows.append([kind, *(got.get((kind, *c), ("-",))[0] for c in cols),
                         "at once" if slowest < 0.05 else f"after {slowest:.1f} s"])
        print(table(["failure", "TCP/IPv4", "UDP/IPv4", "TCP/IPv6", "UDP/IPv6",
                     "when"], rows))
    else:
        print(r["reason"])
    publish(checked.claims)


if __name__ == "__main__":
    main()
