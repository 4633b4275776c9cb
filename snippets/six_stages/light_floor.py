"""No code beats light: the least time to the far side of the Earth, in vacuum and in
fibre, is plain arithmetic; this machine's loopback round trip is measured."""

from __future__ import annotations

import socket
import statistics
import time

from snippets.measure import check_timing
from snippets.report import Claim, publish, table

C_KM_S = 299_792.458  # the speed of light in vacuum, exact by definition
HALF_EQUATOR_KM = 40_075 / 2  # the far side of the planet along the equator
MEDIA = {"vacuum (c)": 1.0, "hollow-core fibre (0.997 c)": 1 / 0.997,
         "silica fibre (n = 1.47)": 1.47}


def one_way_ms(km: float, index: float = 1.0) -> float:
    """The least time light needs to cover km in a medium of this refractive index."""
    return km / (C_KM_S / index) * 1000


def loopback_rtt_us(trips: int = 300) -> list[float]:
    """Round trips of a 32-byte UDP datagram through this machine's network stack."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        server.bind(("127.0.0.1", 0))
        server.settimeout(1)
        client.settimeout(1)
        times = []
        for _ in range(trips):
            start = time.perf_counter()
            client.sendto(b"p" * 32, server.getsockname())
            data, peer = server.recvfrom(64)
            server.sendto(data, peer)
            client.recv(64)
            times.append((time.perf_counter() - start) * 1e6)
    return times


def measure() -> dict:
    return {"loopback_us": statistics.median(loopback_rtt_us()),
            "floors_ms": {m: one_way_ms(HALF_EQUATOR_KM, n) for m, n in MEDIA.items()}}


def claims(r: dict) -> list[Claim]:
    vacuum_rtt_us = 2 * r["floors_ms"]["vacuum (c)"] * 1000
    ratio = vacuum_rtt_us / r["loopback_us"]
    return [Claim("this machine's loopback round trip (median) is over 1,000x shorter "
                  "than the vacuum round trip to the far side", f"{ratio:,.0f}x",
                  ratio > 1000, timing=True)]


def main() -> None:
    checked = check_timing(measure, claims)
    r = checked.result
    print(f"the far side: {HALF_EQUATOR_KM:,.1f} km along the equator "
          "(arithmetic, not a measurement)")
    print(table(["light in", "one way", "round trip"], [
        [m, f"{ms:.1f} ms", f"{2 * ms:.1f} ms"] for m, ms in r["floors_ms"].items()]))
    print(f"\nmeasured here: loopback UDP round trip, median {r['loopback_us']:.0f} us")
    publish(checked.claims)


if __name__ == "__main__":
    main()
