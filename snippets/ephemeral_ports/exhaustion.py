"""With N ephemeral ports, exactly N connects to one destination succeed and the next
fails with EADDRNOTAVAIL; the same N ports then serve every other destination."""

from __future__ import annotations

from snippets.ephemeral_ports._ports import (
    HIGH,
    LOW,
    RANGE,
    SIZE,
    fill,
    in_namespace,
    listeners,
    unchecked,
)
from snippets.report import Claim, publish, table

DESTS = [("127.0.0.1", 5000), ("127.0.0.1", 5001), ("127.0.0.2", 5000)]


def exhaust() -> dict:
    """Inside the namespace: fill each destination in turn, keeping every socket."""
    keep: list = []
    with listeners(*DESTS):
        try:
            return {f"{h}:{p}": fill((h, p), keep) for h, p in DESTS}
        finally:
            for s in keep:
                s.close()


def measure() -> dict:
    result, reason = in_namespace(exhaust)
    return {"dests": result, "reason": reason}


def claims(r: dict) -> list[Claim]:
    first = f"{DESTS[0][0]}:{DESTS[0][1]}"
    statements = [f"with the range {RANGE}, exactly {SIZE} connects to {first} "
                  "succeed and the next fails with EADDRNOTAVAIL",
                  "the same source ports connect again to another port and to "
                  "127.0.0.2 (a connection is a 4-tuple)"]
    if r["reason"]:
        return unchecked(statements, r["reason"])
    ports, end = r["dests"][first]
    again = [sorted(p) for p, _ in r["dests"].values()]
    ends = {e for _, e in r["dests"].values()}
    return [Claim(statements[0], f"{len(ports)} connects, then {end}",
                  len(ports) == SIZE and end == "EADDRNOTAVAIL"),
            Claim(statements[1], f"ports per destination: {[len(p) for p in again]},"
                  f" each ended by {sorted(ends)}",
                  all(p == list(range(LOW, HIGH + 1)) for p in again)
                  and ends == {"EADDRNOTAVAIL"})]


def main() -> None:
    r = measure()
    if r["dests"]:
        rows = [[dest, len(ports), f"{min(ports)}-{max(ports)}", end]
                for dest, (ports, end) in r["dests"].items()]
        print(table(["destination", "connects", "source ports", "then"], rows))
    else:
        print(r["reason"])
    publish(claims(r))


if __name__ == "__main__":
    main()
