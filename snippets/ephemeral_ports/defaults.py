"""Your machine's ephemeral port range, the defaults a fresh namespace starts with,
and how long TIME_WAIT lasts: the kernel's timer reads 60 s whatever
tcp_fin_timeout says, because TIME_WAIT's length is a constant, not a sysctl."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from snippets import netns
from snippets.ephemeral_ports._ports import (
    RANGE,
    SIZE,
    close,
    in_namespace,
    listeners,
    pairs,
    settle,
    sockets,
)
from snippets.report import (
    Claim,
    NotMeasurable,
    between,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

NAMES = ["net.ipv4.ip_local_port_range", "net.ipv4.tcp_tw_reuse",
         "net.ipv4.tcp_tw_reuse_delay", "net.ipv4.tcp_fin_timeout"]  # "-": absent
DEST = ("127.0.0.1", 5000)

RANGE_DEFAULT = finding("default-range", "a fresh namespace's ip_local_port_range is "
                        "{bound}", equals("32768 60999"))
REUSE_DEFAULT = finding("default-tw-reuse", "a fresh namespace's tcp_tw_reuse is "
                        "{bound} (loopback only)", equals("2"))
TIMERS = check("time-wait-sockets", "the client-first closes left {bound} sockets in "
               "TIME_WAIT", equals(SIZE))
LEFT = finding("time-wait-left", "with tcp_fin_timeout set to 5 s, a new TIME_WAIT "
               "socket still has {bound} left (the least of them)", between(55, 60),
               unit="s", fmt=".0f")
ALL = [RANGE_DEFAULT, REUSE_DEFAULT, TIMERS, LEFT]


@dataclass(frozen=True)
class Fresh:
    defaults: dict[str, str]  # a new namespace's sysctls, before any are written
    timers: list[float]  # seconds left on each new TIME_WAIT socket


def read(name: str) -> str:
    path = Path("/proc/sys") / name.replace(".", "/")
    return " ".join(path.read_text().split()) if path.exists() else "-"


def fresh() -> Fresh:
    """Inside a new namespace: its defaults, then TIME_WAIT timers with a short
    tcp_fin_timeout."""
    defaults = {n: read(n) for n in NAMES}
    netns.sysctl("net.ipv4.tcp_fin_timeout", 5)
    netns.sysctl("net.ipv4.ip_local_port_range", RANGE)
    with listeners(DEST) as (srv,):
        clients, accepted = pairs(srv, DEST)
        close(clients + accepted)  # the client closes first: TIME_WAIT on its side
        settle()
        timers = [s.timer_seconds for s in sockets() if s.state == "TIME_WAIT"]
    return Fresh(defaults, timers)


def measure() -> Fresh:
    return in_namespace(fresh, ports=None)  # the kernel's defaults, as they come


def claims(r: Fresh) -> list[Claim]:
    return [RANGE_DEFAULT.of(r.defaults[NAMES[0]]),
            REUSE_DEFAULT.of(r.defaults[NAMES[1]]), TIMERS.of(len(r.timers)),
            LEFT.of(min(r.timers, default=0.0))]


def show(host: dict[str, str], inside: dict[str, str]) -> None:
    print(table(["sysctl", "this machine", "a fresh namespace"],
                [[n, host[n], inside.get(n, "-")] for n in NAMES]))
    low, high = (int(v) for v in host[NAMES[0]].split())
    print(f"\nthis machine: {high - low + 1} ports per destination (IP, port)")


def main() -> None:
    host = {n: read(n) for n in NAMES}
    try:
        r = measure()
    except NotMeasurable as why:
        show(host, {})
        return publish_unmeasured(ALL, why)
    show(host, r.defaults)
    print(f"TIME_WAIT left on new sockets: {max(r.timers, default=0):.0f} s "
          "(tcp_fin_timeout set to 5)")
    publish(claims(r))


if __name__ == "__main__":
    main()
