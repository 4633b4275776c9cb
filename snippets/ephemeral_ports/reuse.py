"""Two ways out of TIME_WAIT: tcp_tw_reuse (its default 2 means loopback only) lets a
new connect take a TIME_WAIT port after a short delay; SO_LINGER {1, 0} skips
TIME_WAIT by closing with a reset, which the peer sees as ECONNRESET."""

from __future__ import annotations

import socket
import struct
import time

from snippets import netns
from snippets.ephemeral_ports._ports import (
    SIZE,
    connect,
    ephemeral,
    fill,
    in_namespace,
    listeners,
    settle,
    unchecked,
)
from snippets.measure import check_timing
from snippets.report import Claim, publish, table

DEST = ("127.0.0.1", 5000)
DELAY = 0.2  # tcp_tw_reuse_delay, where the kernel has it (ms: 200)


def scenario(reuse: int, linger: bool) -> dict:
    netns.sysctl("net.ipv4.tcp_tw_reuse", reuse)
    wait = 2.1  # older kernels: reuse once the last timestamp is > 1 s old
    if netns.has_sysctl("net.ipv4.tcp_tw_reuse_delay"):
        netns.sysctl("net.ipv4.tcp_tw_reuse_delay", int(DELAY * 1000))
        wait = 2 * DELAY
    keep, peer_saw = [], "EOF"
    with listeners(DEST) as (srv,):
        fill(DEST, keep)
        accepted = [srv.accept()[0] for _ in keep]
        for s in keep:
            if linger:  # l_onoff=1, l_linger=0: close() sends RST, no TIME_WAIT
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
            s.close()
        settle()
        try:
            accepted[0].recv(16)
        except ConnectionResetError:
            peer_saw = "ECONNRESET"
        for s in accepted:
            s.close()
        settle()
        waiting = len(ephemeral("TIME_WAIT"))
        again: list = []
        now = [connect(DEST, again) for _ in range(SIZE)]
        time.sleep(wait)
        later = [connect(DEST, again) for _ in range(SIZE)]
        for s in again:
            s.close()
    return {"time_wait": waiting, "peer": peer_saw,
            "now": sum(isinstance(g, int) for g in now),
            "later": sum(isinstance(g, int) for g in later),
            "errors": sorted({g for g in now + later if isinstance(g, str)})}


CASES = {"tcp_tw_reuse=0": (0, False), "tcp_tw_reuse=2 (default)": (2, False),
         "SO_LINGER {1,0}": (0, True)}


def measure() -> dict:
    runs, reason = {}, None
    for name, args in CASES.items():
        runs[name], reason = in_namespace(scenario, *args)
    return {"runs": None if reason else runs, "reason": reason}


def claims(r: dict) -> list[Claim]:
    statements = ["with tcp_tw_reuse=0 the TIME_WAIT ports stay taken",
                  "with tcp_tw_reuse=2 on loopback a reconnect fails at once but "
                  f"takes all {SIZE} TIME_WAIT ports after the reuse delay",
                  "SO_LINGER {1,0} leaves no TIME_WAIT, the peer reads ECONNRESET, "
                  "and the ports are free at once"]
    if r["reason"]:
        return unchecked(statements, r["reason"])
    no, yes, rst = r["runs"].values()
    return [Claim(statements[0], f"{no['time_wait']} in TIME_WAIT; connects: "
                  f"{no['now']} at once, {no['later']} later, {no['errors']}",
                  no["time_wait"] == SIZE and no["now"] == no["later"] == 0
                  and no["errors"] == ["EADDRNOTAVAIL"]),
            Claim(statements[1], f"connects: {yes['now']} at once, {yes['later']} "
                  "after the delay", yes["time_wait"] == SIZE and yes["now"] == 0
                  and yes["later"] == SIZE, timing=True),  # "at once": < DELAY
            Claim(statements[2], f"{rst['time_wait']} in TIME_WAIT, peer "
                  f"{rst['peer']}, {rst['now']} connects at once",
                  rst["time_wait"] == 0 and rst["peer"] == "ECONNRESET"
                  and rst["now"] == SIZE)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    if r["runs"]:
        print(table(["close", "TIME_WAIT", "peer reads", "connects at once",
                     "more after the delay"],
                    [[n, v["time_wait"], v["peer"], v["now"], v["later"]]
                     for n, v in r["runs"].items()]))
    else:
        print(r["reason"])
    publish(checked.claims)


if __name__ == "__main__":
    main()
