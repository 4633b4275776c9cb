"""A tracer outside the process counts exactly the receive calls counted inside it."""

from __future__ import annotations

import json
import sys

from snippets import syscalls
from snippets.report import Claim, publish, table

CALL = {"sendall + recv": "recvfrom", "sendall + recv_into": "recvfrom",
        "sendall + io_uring recv": "io_uring_enter", "sendall + splice": "splice"}
MIB = 16  # traced, every call stops the program twice: a smaller transfer


def measure() -> dict:
    """{way: (calls counted in-process, calls of that name the tracer saw)}."""
    rows, reason = {}, ""
    try:
        for way, call in CALL.items():
            argv = [sys.executable, "-m", "snippets.zero_copy_receive._one_way", way,
                    str(MIB)]
            trace = syscalls.count(argv, timeout=60)
            inside = json.loads(trace.stdout)["calls"]
            rows[way] = (inside, trace.counts[call], trace.method)
    except syscalls.NotMeasured as why:
        reason = str(why)
    return {"rows": rows, "reason": reason}


def claims(r: dict) -> list[Claim]:
    statement = ("the tracer counts exactly the receive calls counted in-process "
                 "(recvfrom, io_uring_enter, splice)")
    if r["reason"]:
        return [Claim.not_checked(statement, r["reason"])]
    return [Claim(statement, "; ".join(f"{k} {a} = {b}" for k, (a, b, _) in
                                       r["rows"].items()),
                  all(a == b for a, b, _ in r["rows"].values()))]


def main() -> None:
    r = measure()
    if r["reason"]:
        print(f"not checked here: {r['reason']}")
    else:
        method = next(iter(r["rows"].values()))[2]
        print(f"{MIB} MiB each way, counted by {syscalls.counter_name(method)}")
        print(table(["way", "system call", "in-process", "traced"],
                    [[k, CALL[k], a, b] for k, (a, b, _) in r["rows"].items()]))
    publish(claims(r))


if __name__ == "__main__":
    main()
