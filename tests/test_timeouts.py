"""Timeouts episode: every demo's claims hold, each run is bounded, and nothing is
left behind: no listening socket, no thread, no open socket."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from snippets.report import explain, failed
from snippets.timeouts import connect, deadline, frees, idle_race, slowloris

ROOT = Path(__file__).resolve().parents[1]
DEMOS = {"connect": connect, "slowloris": slowloris, "idle_race": idle_race,
         "deadline": deadline, "frees": frees}
BOUND = 2.5  # seconds per demo; the page budget is ~2 s, plus a margin for a noisy host
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the demos read TCP_INFO and /proc: Linux only")


def listening(pids: set[int]) -> set[str]:
    """Local address:port of the listening TCP sockets these processes hold.

    `ss -ltnp` lists the whole host, where other programs open and close listeners
    all the time, so only the rows that name one of `pids` count.
    """
    if shutil.which("ss"):
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
        return {line.split()[3] for line in out.splitlines()
                if any(f"pid={pid}," in line for pid in pids)}
    inodes = set()  # no ss: match /proc/net/tcp inodes with the processes' fds
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                inodes.add(os.readlink(fd).removeprefix("socket:[").rstrip("]"))
            except OSError:
                pass
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(name):
            with open(name) as f:
                rows = [row.split() for row in list(f)[1:]]
            found |= {r[1] for r in rows if r[3] == "0A" and r[9] in inodes}  # LISTEN
    return found


def group_members(pgid: int) -> set[int]:
    """Processes still alive in process group `pgid`."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.add(int(stat.parent.name))
    return members


def open_sockets() -> int:
    """Socket file descriptors this process holds."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def snapshot() -> dict:
    return {"listening": listening({os.getpid()}), "sockets": open_sockets(),
            "threads": {t.ident for t in threading.enumerate()}}


@pytest.fixture(scope="module")
def runs() -> dict:
    """Run every demo in-process once, with a snapshot before and after each."""
    out = {}
    for name, demo in DEMOS.items():
        before = snapshot()
        t0 = time.monotonic()
        result = demo.measure()
        seconds = time.monotonic() - t0
        out[name] = {"result": result, "seconds": seconds, "before": before,
                     "after": snapshot()}
    return out


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_claims_hold(runs, name):
    bad = failed(DEMOS[name].claims(runs[name]["result"]))
    assert not bad, explain(bad)


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_demo_is_bounded(runs, name):
    assert runs[name]["seconds"] < BOUND, f"{name} took {runs[name]['seconds']:.2f} s"


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_nothing_left_behind(runs, name):
    before, after = runs[name]["before"], runs[name]["after"]
    assert after["listening"] <= before["listening"], "a listener was left open"
    assert after["threads"] == before["threads"], "a thread was left running"
    assert after["sockets"] <= before["sockets"], "a socket was left open"


@linux_only
def test_exact_counts(runs):
    refused, mine, bounded, waiting = runs["connect"]["result"]
    assert (refused.syns_resent, mine.syns_resent) == (0, 0)
    dl, rd, no = runs["slowloris"]["result"]
    assert [o.served for o in (dl, rd, no)] == [True, False, False]
    assert rd.cuts == no.cuts == 0
    race = runs["idle_race"]["result"]
    assert race.answered == 1 and race.reply == b""
    none, idle = runs["frees"]["result"]
    assert (none.served, idle.served) == (frees.WORKERS, frees.CLIENTS)
    climb = [n for _, n in none.held][: frees.WORKERS + 1]
    assert climb == list(range(frees.WORKERS + 1))  # one more held per arrival


@linux_only
def test_syncnt_bounds_the_kernel_retries():
    """Too slow for the page (seconds): TCP_SYNCNT=1 ends the SYN resends itself."""
    before = listening({os.getpid()})
    attempt = connect.syncnt_give_up(1, limit=15)
    assert attempt.outcome == "ETIMEDOUT", attempt
    assert attempt.syns_resent >= 1, attempt
    assert connect.WATCH < attempt.seconds < 15, attempt
    assert listening({os.getpid()}) <= before


@linux_only
@pytest.mark.parametrize("name", [*DEMOS, "_servers"])
def test_runs_standalone(name):
    """As a reader runs it; afterwards nothing of it runs or listens."""
    proc = subprocess.Popen([sys.executable, "-m", f"snippets.timeouts.{name}"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    assert proc.returncode == 0, out + err
    assert "NOT HELD" not in out
    left = group_members(proc.pid)
    assert not left, f"processes left running: {left}"
    assert not listening(left | {proc.pid}), "a listener was left behind"
