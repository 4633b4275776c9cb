"""Real curl, a server on 127.0.0.1 only, a name resolving to [::1, 127.0.0.1]: a
refused ::1 costs curl nothing, a silent ::1 costs it its Happy Eyeballs timeout."""

from __future__ import annotations

import shutil
import socket
import subprocess

from snippets.measure import check_timing
from snippets.report import (
    Claim,
    MissingTool,
    NotMeasurable,
    at_least,
    below,
    check,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)
from snippets.windows_vs_linux._dual import PORT, in_namespace

REFUSED = finding("curl-refused-fast", "::1 refused: curl moves on and connects to "
                  "127.0.0.1 in {bound} (half its 1000 ms Happy Eyeballs timeout)",
                  below(500), unit="ms", timing=True)
SILENT = finding("curl-silent-waits", "::1 silently dropping SYNs: curl connects to "
                 "127.0.0.1 only when its 200 ms Happy Eyeballs timeout ends, in "
                 "{bound}", at_least(200), unit="ms")
PEERS = check("curl-reaches-ipv4", "curl reached the server on {bound} both times",
              equals("127.0.0.1"))


def curl(he_ms: int) -> dict:
    """time_connect and the address curl connected to, as curl reports them."""
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w",
                          "%{time_connect} %{remote_ip}", "--happy-eyeballs-timeout-ms",
                          str(he_ms), "--resolve", f"dual:{PORT}:[::1],127.0.0.1",
                          f"http://dual:{PORT}/"], capture_output=True, text=True,
                         timeout=10, check=False).stdout.split()
    return {"peer": out[1] if len(out) == 2 else "no connection",
            "seconds": float(out[0]) if out else 0.0}


def both() -> dict:
    refused = curl(1000)  # nothing on [::1]:PORT: the kernel resets
    with socket.create_server(("::1", PORT), family=socket.AF_INET6, backlog=0), \
            socket.create_connection(("::1", PORT), timeout=1):  # queue full: silent
        silent = curl(200)
    return {"::1 refused, timeout 1000 ms": refused,
            "::1 silent, timeout 200 ms": silent}


def measure() -> dict:
    if not shutil.which("curl"):
        raise MissingTool("curl is not installed: apt-get install curl")
    return in_namespace(both)


def claims(r: dict) -> list[Claim]:
    refused, silent = r.values()
    return [REFUSED.of(refused["seconds"] * 1000), SILENT.of(silent["seconds"] * 1000),
            PEERS.of(", ".join(sorted({refused["peer"], silent["peer"]})))]


def main() -> None:
    try:
        checked = check_timing(measure, claims, attempts=2)
    except NotMeasurable as why:
        return publish_unmeasured([REFUSED, SILENT, PEERS], why)
    print(table(["curl against dual:8000", "connected to", "time_connect s"],
                [[k, v["peer"], f"{v['seconds']:.2f}"]
                 for k, v in checked.result.items()]))
    publish(checked.claims)


if __name__ == "__main__":
    main()
