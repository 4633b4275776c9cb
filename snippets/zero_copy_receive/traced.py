"""A tracer outside the process counts exactly the receive calls counted inside it."""

from __future__ import annotations

import json
import sys

from snippets import syscalls
from snippets.report import (
    Claim,
    NotMeasurable,
    check,
    equals,
    publish,
    publish_unmeasured,
    table,
)

CALL = {"sendall + recv": "recvfrom", "sendall + recv_into": "recvfrom",
        "sendall + io_uring recv": "io_uring_enter", "sendall + splice": "splice"}
MIB = 16  # traced, every call stops the program twice: a smaller transfer

AGREE = check("tracer-agrees", "a tracer outside the process counts the receive "
              "calls counted inside it (recvfrom, io_uring_enter, splice): traced "
              "minus counted is {bound}", equals([0] * len(CALL)))


def measure() -> dict:
    """{way: (calls counted in-process, calls of that name the tracer saw, method)};
    raises NotMeasurable where nothing here can trace."""
    rows = {}
    for way, call in CALL.items():
        argv = [sys.executable, "-m", "snippets.zero_copy_receive._one_way", way,
                str(MIB)]
        trace = syscalls.count(argv, timeout=60)
        inside = json.loads(trace.stdout)["calls"]
        rows[way] = (inside, trace.counts[call], trace.method)
    return rows


def claims(rows: dict) -> list[Claim]:
    return [AGREE.of([seen - inside for inside, seen, _ in rows.values()])]


def main() -> None:
    try:
        rows = measure()
    except NotMeasurable as why:
        return publish_unmeasured([AGREE], why)
    method = next(iter(rows.values()))[2]
    print(f"{MIB} MiB each way, counted by {syscalls.counter_name(method)}")
    print(table(["way", "system call", "in-process", "traced"],
                [[k, CALL[k], a, b] for k, (a, b, _) in rows.items()]))
    publish(claims(rows))


if __name__ == "__main__":
    main()
