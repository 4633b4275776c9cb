"""Run a function in a fresh, private network namespace, and always tear it down.

`run(fn, *args, sysctls={...}, routes=[...])` forks a child that calls unshare(2)
with CLONE_NEWNET (plus CLONE_NEWUSER, mapping the caller to root inside, when the
caller is not root), brings loopback up, writes the per-namespace sysctls
(`/proc/sys/net/...` now names the namespace's own), adds the routes with
`ip route add ...`, calls `fn(*args)` and sends its picklable result back over a
pipe. The namespace lives only as long as the child: when the child exits, or is
killed at the timeout with its whole process group, the kernel frees it with every
socket in it. The host's sysctls and routes are never touched.

Where the host forbids namespaces (no user namespaces for unprivileged users, a
seccomp filter, not Linux) `run` raises `report.HostForbids` with the reason (or
`report.MissingTool` without iproute2); demos publish their claims *not checked
here* with it (`report.publish_unmeasured`) and tests skip with it.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import pickle
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from snippets.report import (
    HostForbids,
    MissingTool,
    NotMeasurable,
    check,
    equals,
    publish,
    publish_unmeasured,
    table,
)

T = TypeVar("T")
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
PR_SET_PDEATHSIG = 1
# TCP hash buckets of the namespace we run in (when settable); the kernel sizes
# tcp_max_tw_buckets (512) and tcp_max_syn_backlog (128) from it: ample for demos
CHILD_EHASH = 1024
_probe: str | None = None  # cached reason, "" once a namespace was seen to work




class ChildFailed(RuntimeError):
    """`fn` raised inside the namespace; the message carries its traceback."""


def sysctl(name: str, value: object | None = None) -> str:
    """Read (and first write, if `value` is given) a sysctl such as
    "net.ipv4.ip_local_port_range". Call it inside `run` only: there it is the
    namespace's own copy."""
    path = Path("/proc/sys") / name.replace(".", "/")
    if value is not None:
        path.write_text(f"{value}\n")
    return path.read_text().strip()


def has_sysctl(name: str) -> bool:
    return (Path("/proc/sys") / name.replace(".", "/")).exists()


def ip(*args: str) -> str:
    """Run `ip ARGS...` (iproute2); inside `run` it acts on the namespace only."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=5)
    if done.returncode:
        raise OSError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def _loopback_flags() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        return struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]


def _loopback_up() -> None:  # `ip link set lo up`, without needing iproute2
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = _loopback_flags() | IFF_UP
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags))


def _enter() -> None:
    """unshare(2) into a new network (and, unless root, user) namespace."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNET | (CLONE_NEWUSER if uid else 0)
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        kind = "user and network" if uid else "network"
        raise HostForbids(f"unshare({kind} namespace) failed: {os.strerror(err)}"
                          f" ({'unprivileged' if uid else 'as root'})")
    if uid:  # become root inside, the way `unshare -r` does
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")
    # A new namespace shares the host's large TCP hash table by default, so reading
    # /proc/net/tcp walks all of it (tens of ms). Where the kernel has
    # tcp_child_ehash_entries (ip-sysctl: the table size of *child* namespaces, set
    # before unshare), give this namespace's children a small table and step into
    # such a child; the first namespace, left empty, is freed at once.
    child_table = Path("/proc/sys/net/ipv4/tcp_child_ehash_entries")
    if child_table.exists():
        try:
            child_table.write_text(f"{CHILD_EHASH}\n")
        except OSError:
            return
        libc.unshare(CLONE_NEWNET)  # if refused, the first namespace serves as well


def _child(send, fn, args, kwargs, sysctls, routes) -> None:
    os.setpgid(0, 0)  # our own group: a timeout kills us and what we started
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # never outlive the caller
    try:
        try:
            _enter()
            _loopback_up()
            for name, value in (sysctls or {}).items():
                sysctl(name, value)
            if routes and not shutil.which("ip"):
                raise MissingTool("iproute2 (`ip`) is not installed: "
                                  "apt-get install iproute2")
            for route in routes or []:
                ip(*route.split())
        except NotMeasurable as exc:
            payload = ("unavailable", exc)
        else:
            payload = ("ok", fn(*args, **kwargs))
    except BaseException:  # noqa: BLE001 - everything goes back to the caller
        payload = ("error", traceback.format_exc())
    try:
        data = pickle.dumps(payload)
    except Exception:  # noqa: BLE001
        data = pickle.dumps(("error", traceback.format_exc()))
    send(data)


def _threads() -> int:
    """This process's OS threads (C threads too): what makes fork() unsafe."""
    try:
        return int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[17])
    except (OSError, ValueError, IndexError):
        return threading.active_count()


def _write_all(fd: int):
    def send(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.close(fd)
    return send


def _main_module() -> str:
    """The real name of the module run as __main__ (`python -m x.y`), or "" (a
    script, `-c`, or a tool that put a module of its own there)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    name = getattr(spec, "name", "") or ""
    return "" if name == "__main__" or name.startswith("__") else name


def _start(fn, args, kwargs, sysctls, routes):
    """Start the namespace child: (its pid, the fd to read its result from, a
    function that reaps it). A single-threaded caller forks (about a millisecond);
    a multi-threaded one must not (a lock another thread held stays locked in the
    child), so it starts a fresh interpreter instead, which imports `fn` (a
    module-level function) and, as multiprocessing does, the caller's main module
    under the name `__mp_main__`."""
    read_fd, write_fd = os.pipe()
    if _threads() == 1:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                os.close(read_fd)
                _child(_write_all(write_fd), fn, args, kwargs, sysctls, routes)
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        return pid, read_fd, lambda: os.waitpid(pid, 0) and ""
    sys.modules.setdefault("__mp_main__", sys.modules["__main__"])  # for the result
    errors = tempfile.TemporaryFile()  # what a child that died without a result said
    proc = subprocess.Popen(
        [sys.executable, "-m", "snippets.netns", "--child", str(write_fd),
         _main_module()], stdin=subprocess.PIPE, pass_fds=(write_fd,), stderr=errors,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(  # what imports fn
            p for p in sys.path if p)))
    os.close(write_fd)
    with proc.stdin:
        proc.stdin.write(pickle.dumps((fn, args, kwargs, sysctls, routes)))

    def reap() -> str:
        proc.wait()
        with errors:
            errors.seek(0)
            return errors.read().decode(errors="replace")[-2000:]
    return proc.pid, read_fd, reap


def _spawned(write_fd: int, main: str) -> None:
    """The fresh interpreter's side of `_start`: load the caller's main module (so
    pickled references to it resolve), read the call, run it like a forked child."""
    if main:
        import runpy
        import types

        module = types.ModuleType("__mp_main__")
        module.__dict__.update(runpy.run_module(main, run_name="__mp_main__",
                                                alter_sys=True))
        sys.modules["__main__"] = sys.modules["__mp_main__"] = module
    call = pickle.loads(sys.stdin.buffer.read())
    _child(_write_all(write_fd), *call)


def run(fn: Callable[..., T], *args: object, sysctls: dict[str, object] | None = None,
        routes: list[str] | None = None, timeout: float = 10.0, **kwargs) -> T:
    """Call fn(*args, **kwargs) in a fresh network namespace; return its result.

    `sysctls` maps names ("net.ipv4.ip_local_port_range") to values written inside
    first; `routes` are `ip route add` argument strings ("route add unreachable
    10.99.0.1", "-6 route add prohibit 2001:db8::2"). Raises HostForbids where the
    host forbids namespaces, ChildFailed if fn raised, TimeoutError (the child and
    its process group killed) after `timeout` seconds.
    """
    if not sys.platform.startswith("linux"):
        raise HostForbids(f"network namespaces are Linux only (this is {sys.platform})")
    sys.stdout.flush(), sys.stderr.flush()
    pid, read_fd, reap = _start(fn, args, kwargs, sysctls, routes)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                raise TimeoutError(f"namespace child still running after "
                                   f"{timeout} s: killed")
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        for target in (lambda: os.killpg(pid, signal.SIGKILL),
                       lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except ProcessLookupError:
                pass
        said = reap()
    if not chunks:
        raise ChildFailed("the namespace child exited without a result"
                          + (f":\n{said}" if said else ""))
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "unavailable":
        raise value
    if kind == "error":
        raise ChildFailed(value)
    return value


def _nothing() -> None:
    return None


def unavailable() -> str | None:
    """Why this host cannot run namespaces (None if it can); probed once."""
    global _probe
    if _probe is None:
        try:
            run(_nothing, timeout=10)
            _probe = ""
        except (NotMeasurable, TimeoutError, ChildFailed) as exc:
            _probe = getattr(exc, "reason", str(exc))
    return _probe or None


def _self_check() -> dict:
    """Inside: the sysctl and route we set, and whether loopback carries a connect."""
    with socket.create_server(("127.0.0.1", 5000)) as srv, \
            socket.create_connection(("127.0.0.1", 5000), timeout=2):
        srv.accept()[0].close()  # reached only if loopback carried the handshake
    return {"range": sysctl("net.ipv4.ip_local_port_range"),
            "routes": ip("route", "show") if shutil.which("ip") else "",
            "lo": "up" if _loopback_flags() & IFF_UP else "down"}


LOOPBACK = check("netns-loopback", "loopback is up inside and carries a connection",
                 equals("up"))
CONTAINED = check("netns-contained", "a port range and a route set inside leave the "
                  "host's range unchanged", equals(["40000", "40001", "unchanged"]))


def main() -> None:
    """Self-check: a range and a route set inside stay inside; loopback works."""
    host = Path("/proc/sys/net/ipv4/ip_local_port_range")
    before = host.read_text().split()
    try:
        got = run(_self_check, sysctls={"net.ipv4.ip_local_port_range": "40000 40001"},
                  routes=["route add unreachable 10.99.0.1"])
    except NotMeasurable as why:
        return publish_unmeasured([LOOPBACK, CONTAINED], why)
    after = host.read_text().split()
    print(table(["", "inside", "host"],
                [["ip_local_port_range", " ".join(got["range"].split()),
                  " ".join(after)],
                 ["route to 10.99.0.1", got["routes"].split("\n")[0].strip(), "-"]]))
    routed = "unreachable 10.99.0.1" in got["routes"]
    publish([LOOPBACK.of(got["lo"]),
             CONTAINED.of([*got["range"].split(),
                           "unchanged" if before == after and routed else "changed"])])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _spawned(int(sys.argv[2]), sys.argv[3])
    else:
        main()
