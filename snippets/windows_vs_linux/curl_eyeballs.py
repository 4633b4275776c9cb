"""Real curl, a server on 127.0.0.1 only, a name resolving to [::1, 127.0.0.1]: a
refused ::1 costs curl nothing, a silent ::1 costs it its Happy Eyeballs timeout."""

from __future__ import annotations

import shutil
import socket
import subprocess

from snippets.measure import check_timing
from snippets.report import Claim, publish, table
from snippets.windows_vs_linux._dual import PORT, in_namespace


def curl(he_ms: int) -> dict:
    """time_connect and the address curl connected to, as curl reports them."""
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                          "%{time_connect} %{remote_ip}", "--happy-eyeballs-timeout-ms",
                          str(he_ms), "--resolve", f"dual:{PORT}:[::1],127.0.0.1",
                          f"http://dual:{PORT}/"], capture_output=True, text=True,
                         timeout=10).stdout.split()
    return {"peer": out[1], "seconds": float(out[0])} if len(out) == 2 else {}


def both() -> dict:
    refused = curl(1000)  # nothing on [::1]:PORT: the kernel resets
    with socket.create_server(("::1", PORT), family=socket.AF_INET6, backlog=0), \
            socket.create_connection(("::1", PORT), timeout=1):  # queue full: silent
        silent = curl(200)
    return {"::1 refused, timeout 1000 ms": refused,
            "::1 silent, timeout 200 ms": silent}


def measure() -> dict:
    if not shutil.which("curl"):
        return {"result": None, "reason": "curl is not installed: apt-get install curl"}
    return in_namespace(both)


def claims(r: dict) -> list[Claim]:
    s = ["::1 refused: curl connects to 127.0.0.1 in under half its 1000 ms timeout",
         "::1 silently dropping SYNs: curl connects to 127.0.0.1 only after its "
         "200 ms timeout"]
    if r["reason"]:
        return [Claim.not_checked(x, r["reason"]) for x in s]
    refused, silent = r["result"].values()
    return [Claim(s[0], f"{refused.get('peer')} at "
                  f"{refused.get('seconds', 0) * 1000:.0f} ms",
                  refused.get("peer") == "127.0.0.1" and refused["seconds"] < 0.5,
                  timing=True),
            Claim(s[1], f"{silent.get('peer')} at "
                  f"{silent.get('seconds', 0) * 1000:.0f} ms",
                  silent.get("peer") == "127.0.0.1" and silent["seconds"] >= 0.2,
                  timing=True)]


def main() -> None:
    checked = check_timing(measure, claims, attempts=2)
    r = checked.result
    if r["reason"]:
        print(r["reason"])
    else:
        print(table(["curl against dual:8000", "connected to", "time_connect s"],
                    [[k, v.get("peer", "-"), f"{v.get('seconds', 0):.2f}"]
                     for k, v in r["result"].items()]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
