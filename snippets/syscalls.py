"""Count the system calls a program makes, the way `strace -f -c -y` counts them.

One primary method and one fallback, with the same answer: a small ptrace loop driven
from Python (python-ptrace, from PyPI) and, where that package is missing, strace's
log. Both follow every thread and child process, count a call when it returns (so
exit_group and the waits of threads killed at exit don't count, as in `strace -c`),
and list the calls made on one file's descriptor (those `strace -y` tags with it).
Where neither works, count() raises a `report.NotMeasurable` (MissingTool,
HostForbids) with the reason and the fix.
"""

from __future__ import annotations

import ctypes
import errno
import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from snippets.report import HostForbids, MissingTool, NotMeasurable

OPENS = {"open", "openat", "openat2", "creat"}
ON_FD = {"read", "pread64", "readv", "preadv", "preadv2", "write", "pwrite64",
         "writev", "pwritev", "pwritev2", "close", "fstat", "newfstatat", "statx",
         "lseek", "ioctl", "fcntl", "fadvise64", "fstatfs", "flock", "fsync",
         "fdatasync", "ftruncate", "getdents64", "mmap", "sendfile",
         "copy_file_range", "splice"}
FD_ARGS = {"mmap": (4,), "sendfile": (0, 1), "copy_file_range": (0, 2),
           "splice": (0, 2)}  # which arguments are descriptors; others: the first
TCGETS = 0x5401  # the ioctl isatty() makes
FORBIDDERS = "seccomp, Yama ptrace_scope, a sandbox, or a tracer already attached"
INSTALL = ("install python-ptrace (`make setup`) or strace "
           "(`apt-get install strace`)")




@dataclass
class Trace:
    command: list[str]
    method: str  # "ptrace" or "strace"
    counts: Counter = field(default_factory=Counter)  # syscall name -> calls
    threads: int = 0  # threads started (clones that are neither fork nor vfork)
    file_calls: list[str] = field(default_factory=list)  # on the watched file
    file_results: list[int] = field(default_factory=list)  # what each returned
    opened: list[str] = field(default_factory=list)  # every path opened, in order
    returncode: int = 0
    stdout: bytes = b""
    stderr: bytes = b""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def distinct(self) -> int:
        return len(self.counts)


def find_program(name: str, package: str | None = None) -> str | None:
    """A program from an installed wheel (`<package>/bin/<name>`), else from PATH."""
    spec = importlib.util.find_spec(package) if package else None
    if spec and spec.origin:
        candidate = Path(spec.origin).parent / "bin" / name
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    return os.path.realpath(found) if found else None


def methods() -> list[str]:
    """The counting methods installed here, primary first."""
    return (["ptrace"] if importlib.util.find_spec("ptrace") else []) + (
        ["strace"] if shutil.which("strace") else [])


def default_method() -> str | None:
    return next(iter(methods()), None)


def counter_name(method: str) -> str:
    """The method and the version of the tool behind it, for a page's stamp."""
    if method == "ptrace":
        return f"ptrace (python-ptrace {importlib.metadata.version('python-ptrace')})"
    version = subprocess.run(["strace", "-V"], capture_output=True, text=True,
                             timeout=10, check=False).stdout.split()
    return f"strace {version[3] if len(version) > 3 else ''}".strip()


def count(argv: list[str], watch: str | None = None, *, method: str | None = None,
          timeout: float = 30.0, cwd: str | None = None,
          env: dict[str, str] | None = None) -> Trace:
    """Run argv to completion under a tracer and return what it asked the kernel."""
    method = method or default_method()
    if method is None:
        raise MissingTool(f"no syscall counter on this machine: {INSTALL}")
    program = shutil.which(argv[0], path=os.environ.get("PATH"))  # no execvp tries
    if program is None:
        raise MissingTool(f"{argv[0]} not found")
    argv = [os.path.abspath(program), *argv[1:]]
    watch = os.path.realpath(watch) if watch else None
    env = dict(os.environ) if env is None else env
    run = _by_ptrace if method == "ptrace" else _by_strace
    return run(argv, watch, timeout, cwd, env)


def rw_calls() -> tuple[int, int] | None:
    """This process's read- and write-family calls so far, as the kernel counts them.

    From /proc/self/io (syscr, syscw): no tracer needed, exact, and free; None where
    the kernel was built without task I/O accounting.
    """
    try:
        fields = dict(line.split(": ") for line in
                      Path("/proc/self/io").read_text().splitlines())
        return int(fields["syscr"]), int(fields["syscw"])
    except (OSError, KeyError, ValueError):
        return None


_WALL, _EXITKILL, _GET_SYSCALL_INFO = 0x40000000, 0x100000, 0x420E


class _Info(ctypes.Structure):  # struct ptrace_syscall_info (Linux >= 5.3)
    _fields_ = [("op", ctypes.c_uint8), ("pad", ctypes.c_uint8 * 3),
                ("arch", ctypes.c_uint32), ("ip", ctypes.c_uint64),
                ("sp", ctypes.c_uint64), ("nr", ctypes.c_uint64),  # exit: rval
                ("args", ctypes.c_uint64 * 6), ("ret_data", ctypes.c_uint32)]


def _fd(word: int) -> int:
    return ctypes.c_int(word & 0xFFFFFFFF).value


def _by_ptrace(argv, watch, timeout, cwd, env) -> Trace:
    from ptrace import PtraceError
    from ptrace.binding import func as pt
    from ptrace.syscall import SYSCALL_NAMES

    trace, info, fds, entries = Trace(argv, "ptrace"), _Info(), set(), {}
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    errors_r, errors_w = os.pipe()  # close-on-exec: only a failure writes to it
    pid = os.fork()
    if pid == 0:  # the child: stop first, so the tracer sees the very first execve
        step = "setup"
        try:
            os.setpgid(0, 0)
            os.chdir(cwd or ".")
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            step = "PTRACE_TRACEME"
            pt.ptrace_traceme()
            os.kill(os.getpid(), signal.SIGSTOP)
            step = "execve"
            os.execve(argv[0], argv, env)
        except BaseException as error:  # noqa: BLE001 - report any failure, then die
            code = getattr(error, "errno", None)
            why = os.strerror(code) if code else str(error)
            os.write(errors_w, f"{step}: {why}".encode())
        os._exit(127)
    os.close(errors_w)
    fired = threading.Event()  # set before the kill: the exit we see may come first

    def time_out() -> None:
        fired.set()
        _kill_group(pid)

    timer = threading.Timer(timeout, time_out)
    live, seen, started = {pid}, {pid}, False

    def resume(tid: int, sig: int = 0) -> None:
        try:
            pt.ptrace_syscall(tid, sig)
        except PtraceError as error:  # the task died meanwhile
            if error.errno != errno.ESRCH:
                raise

    try:
        _, status = os.waitpid(pid, _WALL)
        if not os.WIFSTOPPED(status):
            live.clear()
            why = os.read(errors_r, 500).decode()
            if why.startswith("PTRACE"):
                raise HostForbids(f"ptrace is not allowed here ({FORBIDDERS}): {why}")
            raise NotMeasurable(f"could not start: {why}")
        pt.ptrace_setoptions(pid, pt.PTRACE_O_TRACESYSGOOD | pt.PTRACE_O_TRACECLONE
                             | pt.PTRACE_O_TRACEFORK | pt.PTRACE_O_TRACEVFORK
                             | pt.PTRACE_O_TRACEEXEC | _EXITKILL)
        timer.start()
        resume(pid)
        while live:
            try:
                tid, status = os.waitpid(-1, _WALL)
            except ChildProcessError:  # nothing left to wait for
                break
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                live.discard(tid)
                if tid == pid:
                    trace.returncode = os.waitstatus_to_exitcode(status)
                continue
            live.add(tid)
            sig, event, inject = os.WSTOPSIG(status), status >> 16, 0
            if tid not in seen:  # a new task's first stop is a SIGSTOP: swallow it
                seen.add(tid)
                inject = 0 if sig == signal.SIGSTOP else sig
            elif sig == signal.SIGTRAP | 0x80:
                pt.ptrace(_GET_SYSCALL_INFO, tid, ctypes.sizeof(info),
                          ctypes.addressof(info))
                if info.op == 1:  # entry: remember it, count it when it returns
                    name = SYSCALL_NAMES.get(info.nr, f"syscall_{info.nr}")
                    started = started or name == "execve"
                    entries[tid] = (name, list(info.args))
                elif info.op == 2 and tid in entries and started:
                    name, args = entries.pop(tid)
                    trace.counts[name] += 1
                    used = {_fd(args[i]) for i in FD_ARGS.get(name, (0,))}
                    rval = ctypes.c_int64(info.nr).value
                    path = _path(tid, rval) if name in OPENS and rval >= 0 else None
                    trace.opened += [path] if path else []
                    if path is not None and path == watch:
                        fds.add(rval)
                        trace.file_calls.append(name)
                        trace.file_results.append(rval)
                    elif name in ON_FD and used & fds:
                        tty = name == "ioctl" and args[1] == TCGETS
                        trace.file_calls.append("ioctl(TCGETS)" if tty else name)
                        trace.file_results.append(max(rval, -1))  # -errno: -1
                        fds -= used if name == "close" else set()
            elif event in (pt.PTRACE_EVENT_CLONE, pt.PTRACE_EVENT_FORK,
                           pt.PTRACE_EVENT_VFORK):
                trace.threads += event == pt.PTRACE_EVENT_CLONE
                live.add(pt.ptrace_geteventmsg(tid))  # the new task, not yet seen
            elif event:
                pass  # an exec event: the syscall-exit stop follows
            else:
                inject = sig
            resume(tid, inject)
    finally:
        timed_out = fired.is_set()
        timer.cancel()
        if timer.ident is not None:  # gone before the next fork (3.12 warns)
            timer.join()
        if live:
            _kill_and_reap(pid, live)
        trace.stdout, trace.stderr = _drain(out), _drain(err)
        failure = os.read(errors_r, 500).decode()
        os.close(errors_r)
    if timed_out:
        raise NotMeasurable(f"{Path(argv[0]).name} did not finish in {timeout:g} s")
    if failure:
        raise NotMeasurable(f"could not run {Path(argv[0]).name}: {failure}")
    return trace


def _drain(file) -> bytes:
    with file:
        file.seek(0)
        return file.read()


def _path(tid: int, fd: int) -> str:
    try:
        return os.readlink(f"/proc/{tid}/fd/{fd}")
    except OSError:
        return ""  # never equal to a watched path, nor to None


def _group_alive(pgid: int) -> bool:
    """Any process of the group not yet dead (a zombie counts as dead)."""
    with os.scandir("/proc") as entries:  # closed also when we return early
        for entry in entries:
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except (OSError, ValueError):
                continue
            state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
            if int(group) == pgid and state not in "ZX":
                return True
    return False


def _kill_group(pgid: int, wait: float = 0.0) -> None:
    """SIGKILL the group; with `wait`, until its members are gone (bounded): a killed
    tracee of a killed strace can take a while to die on a busy machine. (Not for
    our own ptrace tracees: they die only once we resume them.)"""
    deadline = time.monotonic() + wait
    while True:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return
        if time.monotonic() >= deadline or not _group_alive(pgid):
            return
        time.sleep(0.01)


def _kill_and_reap(pgid: int, tids: set[int]) -> None:
    _kill_group(pgid)
    for tid in tids:
        try:
            os.waitpid(tid, _WALL)
        except ChildProcessError:
            pass


_LINE = re.compile(r"^(\d+) +(?:<\.\.\. (\w+) resumed>|(\w+)\()")
_RESULT = re.compile(r" = (-?\d+|0x[0-9a-f]+)(?:<(.*)>)?(?: [A-Z]\w* \(.*\))?$")


def _by_strace(argv, watch, timeout, cwd, env) -> Trace:
    strace = shutil.which("strace")
    if strace is None:
        raise MissingTool(f"strace is not installed: {INSTALL}")
    trace, tag, pending = Trace(argv, "strace"), f"<{watch}>", {}
    with tempfile.TemporaryDirectory() as tmp:
        log, out, err = (Path(tmp, name) for name in ("log", "out", "err"))
        # output to regular files in both methods: a pipe changes the counts
        with out.open("wb") as stdout, err.open("wb") as stderr:
            run = subprocess.Popen([strace, "-f", "-qq", "-y", "-o", str(log), "--",
                                    *argv], cwd=cwd, env=env, stdout=stdout,
                                   stderr=stderr, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
            try:
                run.wait(timeout)
            except subprocess.TimeoutExpired:  # kill strace and its tracees
                _kill_group(run.pid, wait=5.0)
                run.wait()
                raise NotMeasurable(f"{Path(argv[0]).name} did not finish in "
                                  f"{timeout:g} s") from None
        text = log.read_text(errors="replace") if log.exists() else ""
        trace.stdout, trace.stderr = out.read_bytes(), err.read_bytes()
    if " execve(" not in text:
        why = trace.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise HostForbids(f"strace could not trace here: {' '.join(why)}")
    trace.returncode = run.returncode
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        tid, name = match[1], match[2] or match[3]
        if match[3]:  # the call's entry: what it was asked to do
            tagged = watch is not None and tag in line
            shown = "ioctl(TCGETS)" if name == "ioctl" and ", TCGETS" in line else name
            trace.threads += name in ("clone", "clone3") and "CLONE_THREAD" in line
        else:  # "<... name resumed>": the entry was an earlier, unfinished line
            tagged, shown = pending.pop(tid, (False, name))
            tagged = tagged or (watch is not None and tag in line)  # openat's result
        if line.endswith("<unfinished ...>"):
            pending[tid] = (tagged, shown)
        elif not line.endswith("= ?"):
            trace.counts[name] += 1
            result = _RESULT.search(line)
            if result and name in OPENS and result[2]:
                trace.opened.append(result[2])
            if tagged:
                trace.file_calls.append(shown)
                trace.file_results.append(int(result[1], 0) if result else 0)
    return trace
