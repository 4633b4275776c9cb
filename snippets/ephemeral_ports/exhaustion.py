"""With N ephemeral ports, exactly N connects to one destination succeed and the next
fails with EADDRNOTAVAIL; the same N ports then serve every other destination."""

from __future__ import annotations

from snippets.ephemeral_ports._ports import (
    RANGE,
    SIZE,
    Filled,
    close,
    fill,
    in_namespace,
    listeners,
)
from snippets.report import (
    Claim,
    NotMeasurable,
    equals,
    finding,
    publish,
    publish_unmeasured,
    table,
)

DESTS = [("127.0.0.1", 5000), ("127.0.0.1", 5001), ("127.0.0.2", 5000)]

CONNECTS = finding("range-connects", f"with the range {RANGE}, {{bound}} connects to "
                   "127.0.0.1:5000 succeed", equals(SIZE))
ENDED = finding("exhausted-errno", "the connect after the range runs out fails with "
                "{bound}", equals("EADDRNOTAVAIL"))
AGAIN = finding("four-tuple", "with 127.0.0.1:5000 full, connects to 127.0.0.1:5001 "
                "and to 127.0.0.2:5000: {bound} (the same ports: a connection is "
                "a 4-tuple)", equals([SIZE, SIZE]))


def exhaust() -> dict[str, Filled]:
    """Inside the namespace: fill each destination in turn, keeping every socket."""
    keep: list = []
    with listeners(*DESTS):
        try:
            return {f"{h}:{p}": fill((h, p), keep) for h, p in DESTS}
        finally:
            close(keep)


def measure() -> dict[str, Filled]:
    return in_namespace(exhaust)


def claims(r: dict[str, Filled]) -> list[Claim]:
    first, *others = r.values()
    return [CONNECTS.of(len(first.ports)), ENDED.of(first.ended_by),
            AGAIN.of([len(o.ports) for o in others])]


def main() -> None:
    try:
        r = measure()
    except NotMeasurable as why:
        return publish_unmeasured([CONNECTS, ENDED, AGAIN], why)
    rows = [[dest, len(f.ports), f"{min(f.ports, default='-')}-"
             + f"{max(f.ports, default='-')}", f.ended_by] for dest, f in r.items()]
    print(table(["destination", "connects", "source ports", "then"], rows))
    publish(claims(r))


if __name__ == "__main__":
    main()
