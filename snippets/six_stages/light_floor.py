"""No code beats light: the least time to the far side of the Earth, in vacuum and in
fibre, is plain arithmetic on cited constants, not a measurement; for scale, this
machine's own loopback round trip is measured and shown, and claims nothing."""

from __future__ import annotations

import socket
import statistics
import time

from snippets.report import publish, table

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


def main() -> None:
    print(f"the far side: {HALF_EQUATOR_KM:,.1f} km along the equator "
          "(arithmetic, not a measurement)")
    print(table(["light in", "one way", "round trip"], [
        [m, f"{one_way_ms(HALF_EQUATOR_KM, n):.1f} ms",
         f"{2 * one_way_ms(HALF_EQUATOR_KM, n):.1f} ms"] for m, n in MEDIA.items()]))
    rtt = statistics.median(loopback_rtt_us())
    print(f"\nmeasured here, for scale only: a loopback UDP round trip, median "
          f"{round(rtt, -1):.0f} us")
    publish([])


if __name__ == "__main__":
    main()
