"""What the Happy Eyeballs demos share: an HTTP server on 127.0.0.1 only, in a
private namespace, so that [::1]:PORT is a closed port on a live host."""

from __future__ import annotations

import contextlib
import http.server
import threading

from snippets import netns

PORT = 8000


class Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the clients only need the connection
        pass


@contextlib.contextmanager
def ipv4_only_server():
    srv = http.server.HTTPServer(("127.0.0.1", PORT), Quiet)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _with_server(fn, *args):
    with ipv4_only_server():
        return fn(*args)


def in_namespace(fn, *args):
    """fn(*args) (a module-level function), run with the server in a fresh
    namespace; raises report.NotMeasurable (HostForbids) where the host forbids
    namespaces."""
    return netns.run(_with_server, fn, *args, timeout=20)
