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
from claimcheck import check

from snippets.measure import check_timing
from snippets.report import unchecked
from snippets.timeouts import (
    cancel,
    connect,
    crash,
    deadline,
    frees,
    idle_race,
    proxy,
    queue_wait,
    slowloris,
    usage,
)

ROOT = Path(__file__).resolve().parents[1]
DEMOS = {"connect": connect, "slowloris": slowloris, "queue_wait": queue_wait,
         "usage": usage, "deadline": deadline, "cancel": cancel, "proxy": proxy,
         "idle_race": idle_race, "frees": frees, "crash": crash}
BOUND = 2.5  # seconds per attempt; the page budget is ~2 s, plus a noisy-host margin
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
    """Run every demo in-process once, through the same timing rule as the build
    (re-measured when a timing claim fails on a busy machine), with a snapshot of
    sockets and threads before and after."""
    out = {}
    for name, demo in DEMOS.items():
        before = snapshot()
        t0 = time.monotonic()
        checked = check_timing(demo.measure, demo.claims)
        seconds = (time.monotonic() - t0) / checked.attempts
        out[name] = {"checked": checked, "result": checked.result, "seconds": seconds,
                     "before": before, "after": snapshot()}
    return out


def exact(runs, name):
    """The result of a demo whose every claim was checked (else skip, saying why)."""
    checked = runs[name]["checked"]
    check(checked.claims)  # fails on *not held*, skips on *not checked here*
    return checked.result


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_claims_hold(runs, name):
    check(runs[name]["checked"].claims)


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
def test_connect_counts(runs):
    refused, mine, bounded, waiting = exact(runs, "connect")
    assert (refused.syns_resent, mine.syns_resent, bounded.syns_resent) == (0, 0, 1)
    assert [a.outcome for a in (refused, mine, bounded, waiting)] == [
        "ECONNREFUSED", "timed out", "ETIMEDOUT", "pending"]


@linux_only
def test_slowloris_counts(runs):
    dl, rd, no = exact(runs, "slowloris")
    assert [o.served for o in (dl, rd, no)] == [True, False, False]
    assert rd.cuts == no.cuts == 0 and dl.cuts >= slowloris.ATTACKERS


@linux_only
def test_queue_counts(runs):
    no, wt = exact(runs, "queue_wait").values()
    assert (no["worked"], no["dropped"]) == (queue_wait.CLIENTS, 0)
    assert wt["worked"] + wt["dropped"] == queue_wait.CLIENTS
    answers = list(wt["answers"].values())
    assert answers.count("200") == wt["worked"]
    assert answers.count("503") == wt["dropped"]
    assert wt["wasted"] == 0 < no["wasted"]


@linux_only
def test_usage_counts(runs):
    no, yes = exact(runs, "usage").values()
    assert (no["heavy"], no["units"]) == ("200", usage.UNITS)
    assert yes["heavy"] == "503" and yes["units"] < usage.UNITS
    assert no["light"] == yes["light"] == "200"


@linux_only
def test_cancel_counts(runs):
    ignores, watches = exact(runs, "cancel").values()
    assert (ignores["server"], ignores["units"]) == ("finished", cancel.UNITS)
    assert watches["server"] == "cancelled" and watches["units"] < cancel.UNITS


@linux_only
def test_proxy_counts(runs):
    r = exact(runs, "proxy")
    assert [x["started"] for x in r.values()] == [1, 1, 3, 6]
    assert [x["finished"] for x in r.values()] == [1, 1, 3, 6]
    assert [x["answers"][-1] for x in r.values()] == ["200", "504", "504", "504"]
    for (timeout, tries, retries), x in zip(proxy.CASES.values(), r.values()):
        if timeout < proxy.WORK:  # every attempt times out: exactly this many
            assert x["started"] == tries * (retries + 1)


@linux_only
def test_idle_race_counts(runs):
    race = exact(runs, "idle_race")
    assert race.answered == 1 and race.reply == b""
    assert race.states == ("CLOSE_WAIT", "CLOSE")
    assert race.next_send == "BrokenPipeError"


@linux_only
def test_frees_counts(runs):
    none, idle = exact(runs, "frees")
    assert (none.served, idle.served) == (frees.WORKERS, frees.CLIENTS)
    climb = [n for _, n in none.held][: frees.WORKERS + 1]
    assert climb == list(range(frees.WORKERS + 1))  # one more held per arrival


@linux_only
def test_crash_counts(runs):
    assert [seen for seen, _ in exact(runs, "crash").values()] == [
        "EOF (FIN)", "ECONNRESET (RST)"]


@linux_only
def test_not_checked_has_reasons(runs):
    """A claim this machine could not check always says why."""
    for name in DEMOS:
        for c in unchecked(runs[name]["checked"].claims):
            assert c.reason, f"{name}: {c.statement}"


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
