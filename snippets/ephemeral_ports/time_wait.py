"""The side that closes first keeps TIME_WAIT: a client closing first holds its source
ports (reconnects fail with EADDRNOTAVAIL), a server closing first leaves them free."""

from __future__ import annotations

from snippets.ephemeral_ports._ports import (
    RANGE,
    SIZE,
    connect,
    ephemeral,
    fill,
    in_namespace,
    listeners,
    settle,
    unchecked,
)
from snippets.report import Claim, publish, table

DEST = ("127.0.0.1", 5000)


def round_trip(client_first: bool) -> dict:
    """SIZE connections, closed by one side first; then what the ports can do."""
    keep: list = []
    with listeners(DEST) as (srv,):
        ports, _ = fill(DEST, keep)
        accepted = [srv.accept()[0] for _ in ports]
        first, second = (keep, accepted) if client_first else (accepted, keep)
        for s in first:
            s.close()
        settle()
        for s in second:
            s.close()
        settle()
        waiting = len(ephemeral("TIME_WAIT"))
        again: list = []
        reconnect = connect(DEST, again)
        for s in again:
            s.close()
    return {"ports": len(ports), "time_wait": waiting,
            "reconnect": "ok" if isinstance(reconnect, int) else reconnect}


def measure() -> dict:
    # tcp_tw_reuse=0: no reuse of TIME_WAIT ports (the default 2 allows it on
    # loopback; the reuse demo shows that)
    runs, reason = {}, None
    for name, client_first in [("client closes first", True),
                               ("server closes first", False)]:  # a namespace each
        runs[name], reason = in_namespace(round_trip, client_first,
                                          sysctls={"net.ipv4.tcp_tw_reuse": 0})
    return {"runs": None if reason else runs, "reason": reason}


def claims(r: dict) -> list[Claim]:
    statements = [f"after {SIZE} client-first closes, {SIZE} client sockets sit in "
                  "TIME_WAIT and a reconnect fails with EADDRNOTAVAIL",
                  "after server-first closes, no client port is in TIME_WAIT and a "
                  "reconnect succeeds"]
    if r["reason"]:
        return unchecked(statements, r["reason"])
    c, s = r["runs"]["client closes first"], r["runs"]["server closes first"]
    return [Claim(statements[0], f"{c['time_wait']} in TIME_WAIT, reconnect "
                  f"{c['reconnect']}", c["ports"] == SIZE == c["time_wait"]
                  and c["reconnect"] == "EADDRNOTAVAIL"),
            Claim(statements[1], f"{s['time_wait']} in TIME_WAIT, reconnect "
                  f"{s['reconnect']}", s["ports"] == SIZE and s["time_wait"] == 0
                  and s["reconnect"] == "ok")]


def main() -> None:
    r = measure()
    if r["runs"]:
        rows = [[name, v["ports"], v["time_wait"], v["reconnect"]]
                for name, v in r["runs"].items()]
        print(f"range {RANGE}, tcp_tw_reuse=0\n")
        print(table(["who closes first", "connections", "client TIME_WAIT",
                     "reconnect"], rows))
    else:
        print(r["reason"])
    publish(claims(r))


if __name__ == "__main__":
    main()
