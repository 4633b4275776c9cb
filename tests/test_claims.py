"""The three verdicts and the shared timing rule behave as documented."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from snippets import measure
from snippets.measure import check_timing, parallelism, watch_load
from snippets.report import Claim, explain, failed, unchecked


def test_three_verdicts_read_and_print_distinctly():
    claims = [Claim("a", "1", True), Claim("b", "2", False),
              Claim.not_checked("c", "no strace here")]
    assert [c.verdict for c in claims] == ["held", "not held", "not checked here"]
    assert failed(claims) == [claims[1]] and unchecked(claims) == [claims[2]]
    lines = explain(claims).splitlines()
    assert lines[0].startswith("held: a")
    assert lines[1].startswith("NOT HELD: b")
    assert lines[2] == "not checked here: c (-; no strace here)"


def test_publish_exits_1_only_for_a_claim_not_held(tmp_path):
    code = ("from snippets.report import Claim, publish\n"
            "publish([Claim.not_checked('x', 'tool missing'), Claim('y', '1', {})])")
    for held, status in ((True, 0), (False, 1)):
        env = {"SNIPPET_OUTPUT_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
        run = subprocess.run([sys.executable, "-c", code.format(held)], env=env,
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == status, run.stderr
        data = json.loads((tmp_path / "claims.json").read_text())
        assert [c["verdict"] for c in data] == [
            "not checked here", "held" if held else "not held"]


def _timing_claim(ok: bool) -> list[Claim]:
    return [Claim("fast enough", "x", ok, timing=True), Claim("count", "4", True)]


def test_check_timing_retries_a_failing_timing_claim_then_stops():
    calls = []
    checked = check_timing(lambda: calls.append(1) or len(calls),
                           lambda n: _timing_claim(n >= 2), attempts=3)
    assert checked.attempts == 2 and not failed(checked.claims)


def test_a_timing_failure_on_a_quiet_machine_stays_not_held(monkeypatch):
    monkeypatch.setattr(measure.Load, "busy", property(lambda self: False))
    checked = check_timing(lambda: 0, lambda _: _timing_claim(False), attempts=2)
    assert checked.attempts == 2
    assert [c.verdict for c in checked.claims] == ["not held", "held"]


def test_a_timing_failure_on_a_busy_machine_is_not_checked_with_the_reason(
        monkeypatch):
    monkeypatch.setattr(measure.Load, "busy", property(lambda self: True))
    monkeypatch.setattr(measure.watch_load, "__exit__",
                        lambda self, *a: setattr(self.load, "others", 1.0))
    checked = check_timing(lambda: 0, lambda _: _timing_claim(False), attempts=2)
    first = checked.claims[0]
    assert first.verdict == "not checked here" and "machine busy" in first.reason
    assert "1.0 of" in first.reason


def test_exact_counts_are_never_excused_by_a_busy_machine(monkeypatch):
    monkeypatch.setattr(measure.Load, "busy", property(lambda self: True))
    checked = check_timing(lambda: 0, lambda _: [Claim("count is 4", "3", False)])
    assert checked.attempts == 1 and failed(checked.claims)


def _cpu_of(pid: int) -> float:
    ticks = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11:13]
    return sum(int(t) for t in ticks) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_our_live_children_count_as_ours_and_a_stranger_does_not():
    hog = [sys.executable, "-c", "while True: pass"]
    child = subprocess.Popen(hog)
    try:
        time.sleep(0.5)
        used = _cpu_of(child.pid)
        family, own = measure._family_cpu_seconds(), sum(os.times()[:4])
    finally:
        child.kill()
        child.wait()
    assert used > 0 and family - own >= used - 0.02
    # not our descendant: sh starts it in the background and exits, orphaning it
    pid = int(subprocess.run(["sh", "-c", f"{sys.executable} -c 'while True: pass' "
                              ">/dev/null 2>&1 & echo $!"], capture_output=True,
                             text=True, timeout=10).stdout)
    try:
        time.sleep(0.5)
        used = _cpu_of(pid)
        family, own = measure._family_cpu_seconds(), sum(os.times()[:4])
    finally:
        os.kill(pid, signal.SIGKILL)
    assert used > 0 and family - own < 0.05


def test_watch_load_sees_a_process_that_is_not_ours_keep_a_core_busy():
    if not Path("/proc/stat").is_file():
        pytest.skip("no /proc/stat here: the load is unknown")
    with watch_load() as instant:
        pass  # far shorter than a clock tick: no evidence of anyone
    assert instant.others == 0.0 and not instant.busy
    spin = f"{sys.executable} -c 'while True: pass' >/dev/null 2>&1 & echo $!"
    pid = int(subprocess.run(["sh", "-c", spin], capture_output=True, text=True,
                             timeout=10, check=True).stdout)  # init's child, not ours
    try:
        time.sleep(0.1)
        with watch_load() as load:
            time.sleep(0.5)
    finally:
        os.kill(pid, signal.SIGKILL)
    assert load.wall >= 0.5
    assert load.busy and 0.5 < load.others <= (os.cpu_count() or 1)


def test_parallelism_is_cpu_seconds_per_wall_second():
    assert parallelism([0.5, 0.5], 0.5) == 2.0
    cpu, value = measure.cpu_timed(sum, range(1000))
    assert value == 499500 and cpu >= 0


def test_one_core_pins_what_it_starts_and_then_lets_go():
    before = os.sched_getaffinity(0)
    with measure.one_core() as core:
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"],
            capture_output=True, text=True, timeout=30, check=True)
    assert child.stdout.strip() == str([core]) and core in before
    assert os.sched_getaffinity(0) == before
