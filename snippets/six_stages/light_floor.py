"""Light in fibre takes ~0.1 s to reach the Earth's far side: no code can beat it."""

from __future__ import annotations

import socket
import statistics
import time
from dataclasses import dataclass

from snippets.report import Claim, publish, table

C_KM_S = 299_792.458  # the speed of light in vacuum, exact by definition
FIBRE_INDEX = 1.47  # silica fibre slows light to about c / 1.47
EARTH_KM = 40_075  # the equator's length
PURGE_P50_MS = 149  # Cloudflare's global purge, P50, August 2024 (their blog)


def one_way_ms(km: float) -> float:
    """The least time light in fibre needs to cover km of cable."""
    return km / (C_KM_S / FIBRE_INDEX) * 1000


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


@dataclass
class Floors:
    loopback_us: float  # median
    far_side_ms: float  # one way, half the equator


def measure() -> Floors:
    return Floors(statistics.median(loopback_rtt_us()), one_way_ms(EARTH_KM / 2))


def claims(f: Floors) -> list[Claim]:
    round_trip = 2 * f.far_side_ms
    ratio = round_trip * 1000 / f.loopback_us
    return [
        Claim("a round trip to the far side can't take less than 190 ms",
              f"{round_trip:.0f} ms", round_trip > 190),
        Claim("that floor is over 1,000x this machine's loopback round trip",
              f"{ratio:,.0f}x", ratio > 1000),
        Claim("Cloudflare's 149 ms global purge (P50) is below that round-trip floor",
              f"{PURGE_P50_MS} ms < {round_trip:.0f} ms", PURGE_P50_MS < round_trip),
    ]


def main() -> None:
    f = measure()
    print(table(["path", "one way", "round trip"], [
        ["loopback on this machine (measured, median)", "-",
         f"{f.loopback_us:.0f} us"],
        ["1,000 km of fibre", f"{one_way_ms(1000):.1f} ms",
         f"{2 * one_way_ms(1000):.1f} ms"],
        [f"half the equator ({EARTH_KM / 2:,.0f} km of fibre)",
         f"{f.far_side_ms:.0f} ms", f"{2 * f.far_side_ms:.0f} ms"],
        ["Cloudflare global purge, P50 (their blog)", f"{PURGE_P50_MS} ms", "-"]]))
    publish(claims(f))


if __name__ == "__main__":
    main()
