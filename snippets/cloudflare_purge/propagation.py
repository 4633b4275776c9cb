"""A model: a purge sent through a central hub can never reach every city sooner than
one broadcast directly from where it entered (the triangle inequality on a sphere)."""

from __future__ import annotations

import math

from snippets import svg
from snippets.report import Claim, at_least, check, equals, publish, table

EARTH_KM = 6_371.0  # mean radius
FIBRE_KM_S = 299_792.458 / 1.47  # light in silica fibre: about c / 1.47
CITIES = {  # latitude, longitude in degrees (each city's Wikipedia article)
    "London": (51.5074, -0.1278), "New York": (40.7128, -74.0060),
    "Los Angeles": (34.0522, -118.2437), "Sao Paulo": (-23.5505, -46.6333),
    "Johannesburg": (-26.2041, 28.0473), "Mumbai": (19.0760, 72.8777),
    "Singapore": (1.3521, 103.8198), "Tokyo": (35.6762, 139.6503),
    "Sydney": (-33.8688, 151.2093),
}
HUB = "New York"  # a stand-in for a central core; not where Cloudflare's was
PUBLISHED = {"global": 149, "Western North America": 115,
             "Africa": 303}  # P50 in ms, Aug 2024: Cloudflare's Instant Purge post
TARGET = 150  # ms: "less than 150ms on average (P50)", the same post
SHOWN = ["New York", "London", "Singapore", "Sydney"]  # entry cities in the chart

DETOUR = check("hub-never-faster", "model: of {cities} cities where a purge may enter, "
               "those it reaches everywhere sooner through {hub}", equals(0))
HUB_OVER = check("hub-floor-over-target", "model: entry cities from which even the "
                 "fibre floor through {hub} is over {target} ms", at_least(1))
DIRECT_OVER = check("direct-floor-over-target", "model: entry cities from which the "
                    "direct fibre floor is over {target} ms", equals(0))


def km(a: str, b: str) -> float:
    """Great-circle distance by the haversine formula."""
    (la1, lo1), (la2, lo2) = (map(math.radians, CITIES[c]) for c in (a, b))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def floor_ms(distance_km: float) -> float:
    return distance_km / FIBRE_KM_S * 1000


def fan_out(origin: str, hub: str | None) -> float:
    """Fibre floor until the last city has the purge: direct, or via a hub."""
    first = km(origin, hub) if hub else 0.0
    start = hub or origin
    return floor_ms(first + max(km(start, c) for c in CITIES if c != start))


def measure() -> dict:
    return {"direct": {o: fan_out(o, None) for o in CITIES},
            "via_hub": {o: fan_out(o, HUB) for o in CITIES}}


def claims(r: dict) -> list[Claim]:
    def over(key: str) -> int:
        return sum(ms > TARGET for ms in r[key].values())

    return [DETOUR.of(sum(r["via_hub"][o] < r["direct"][o] for o in CITIES),
                      hub=HUB, cities=len(CITIES)),
            HUB_OVER.of(over("via_hub"), hub=HUB, target=TARGET),
            DIRECT_OVER.of(over("direct"), target=TARGET)]


def main() -> None:
    r = measure()
    print(f"model: fibre floors (great circle, c/1.47) until all {len(CITIES)} "
          f"cities have the purge; hub: {HUB}")
    print(table(["purge enters at", "direct, ms", "via hub, ms"], [
        [o, f"{r['direct'][o]:.0f}", f"{r['via_hub'][o]:.0f}"] for o in CITIES]))
    groups = [("model, purge enters at", [])]
    groups += [(o, [("direct", round(r["direct"][o])),
                    (f"via {HUB}", round(r["via_hub"][o]))]) for o in SHOWN]
    groups += [("Cloudflare, Aug 2024", [])]
    groups += [(region, [("Cloudflare P50", ms)]) for region, ms in PUBLISHED.items()]
    chart = svg.bar_chart("Until every city has the purge: fibre floor (model) vs "
                         "Cloudflare's P50", "milliseconds", groups,
                         (TARGET, f"{TARGET} ms"))
    publish(claims(r), figures={"propagation": chart})


if __name__ == "__main__":
    main()
