"""Your machine's ephemeral port range, the defaults a fresh namespace starts with,
and how long TIME_WAIT lasts: the kernel's timer reads 60 s whatever
tcp_fin_timeout says, because TIME_WAIT's length is a constant, not a sysctl."""

from __future__ import annotations

from pathlib import Path

from snippets import netns
from snippets.ephemeral_ports._ports import (
    RANGE,
    fill,
    in_namespace,
    listeners,
    settle,
    sockets,
    unchecked,
)
from snippets.report import Claim, publish, table

NAMES = ["net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse",
         "net.ipv4.tcp_tw_reuse_delay", "net.ipv4.tcp_fin_timeout"]  # "-": absent
DEST = ("127.0.0.1", 5000)


def read(name: str) -> str:
    path = Path("/proc/sys") / name.replace(".", "/")
    return " ".join(path.read_text().split()) if path.exists() else "-"


def fresh() -> dict:
    """Inside a new namespace: its defaults, then TIME_WAIT timers with a short
    tcp_fin_timeout."""
    defaults = {n: read(n) for n in NAMES}
    netns.sysctl("net.ipv4.tcp_fin_timeout", 5)
    netns.sysctl("net.ipv4.ip_local_port_range", RANGE)
    keep: list = []
    with listeners(DEST) as (srv,):
        fill(DEST, keep)
        accepted = [srv.accept()[0] for _ in keep]
        for s in keep + accepted:  # the client closes first: TIME_WAIT on its side
            s.close()
        settle()
        timers = [s.timer_seconds for s in sockets() if s.state == "TIME_WAIT"]
    return {"defaults": defaults, "timers": timers}


def measure() -> dict:
    host = {n: read(n) for n in NAMES}
    inside, reason = in_namespace(fresh, tiny=False)
    return {"host": host, "inside": inside, "reason": reason}


def claims(r: dict) -> list[Claim]:
    statements = ["a fresh namespace starts with the documented defaults: range "
                  "32768 60999 and tcp_tw_reuse 2",
                  "a new TIME_WAIT socket has 55 to 60 s left with tcp_fin_timeout"
                  " set to 5 s"]
    if r["reason"]:
        return unchecked(statements, r["reason"])
    d, timers = r["inside"]["defaults"], r["inside"]["timers"]
    return [Claim(statements[0], f"{d[NAMES[0]]}, {d[NAMES[1]]}",
                  d[NAMES[0]] == "32768 60999" and d[NAMES[1]] == "2"),
            Claim(statements[1], f"{len(timers)} timers, {min(timers, default=0):.0f}"
                  f" to {max(timers, default=0):.0f} s", bool(timers)
                  and all(55 <= t <= 60 for t in timers))]


def main() -> None:
    r = measure()
    inside = r["inside"]["defaults"] if r["inside"] else {}
    print(table(["sysctl", "this machine", "a fresh namespace"],
                [[n, r["host"][n], inside.get(n, "-")] for n in NAMES]))
    low, high = (int(v) for v in r["host"][NAMES[0]].split())
    print(f"\nthis machine: {high - low + 1} ports per destination (IP, port)")
    if r["inside"]:
        timers = r["inside"]["timers"]
        print(f"TIME_WAIT left on new sockets: {max(timers):.0f} s "
              f"(tcp_fin_timeout set to 5)")
    else:
        print(r["reason"])
    publish(claims(r))


if __name__ == "__main__":
    main()
