"""Receive N MiB one way, then print the calls counted in-process as JSON.

Not a demo: `traced.py` runs it under a syscall tracer, one process per way.
Usage: python -m snippets.zero_copy_receive._one_way "sendall + recv" 16
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from snippets.zero_copy_receive import _wire as wire
from snippets.zero_copy_receive import copies

if __name__ == "__main__":
    way, mib = sys.argv[1], int(sys.argv[2])
    send, receive = copies.ways(bytes(mib << 20), -1)[way]  # no file: sendall only
    with wire.connection(send) as sock:
        print(json.dumps(asdict(receive(sock))))
