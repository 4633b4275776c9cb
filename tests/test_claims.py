"""Claims: built from a measured value and a bound, three verdicts, two kinds, the
shared timing rule, and a counter-case for every finding the site publishes."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from claimcheck import COUNTER_CASES, counter_case, episode_of, refute

from snippets import measure
from snippets.measure import check_timing, parallelism, watch_load
from snippets.report import (
    Claim,
    Verdict,
    above,
    ascending,
    at_least,
    at_most,
    below,
    between,
    check,
    descending,
    equals,
    explain,
    failed,
    finding,
    one_of,
    unchecked,
)

ROOT = Path(__file__).resolve().parents[1]
FAST = finding("fast", "a thing takes {bound}", below(0.3), unit="x", timing=True)
COUNT = check("count", "the demo made {bound} calls", equals(4))


def test_a_verdict_comes_from_the_measured_value_and_the_bound():
    assert FAST.of(0.1).verdict is Verdict.HELD
    assert FAST.of(0.5).verdict is Verdict.NOT_HELD
    gone = FAST.not_checked("no strace here")
    assert gone.verdict is Verdict.NOT_CHECKED and gone.reason == "no strace here"
    assert failed([FAST.of(0.5), gone]) == [FAST.of(0.5)]
    assert unchecked([FAST.of(0.1), gone]) == [gone]


def test_a_literal_bool_is_refused():
    with pytest.raises(TypeError, match="not from a bool"):
        FAST.of(True)


@pytest.mark.parametrize("bound, inside, outside", [
    (above(1.4), 1.5, 1.4), (below(0.3), 0.29, 0.3), (at_least(4), 4, 3),
    (at_most(4), 4, 5), (between(0.5, 2), 0.5, 2.1), (equals([1, 2]), [1, 2], [2, 1]),
    (one_of("EINVAL", "EACCES"), "EACCES", "EPERM"), (descending(), [3, 2, 1],
                                                      [3, 3, 1]),
    (ascending(), [1, 2, 3], [1, 3, 2]),
])
def test_each_bound_holds_inside_and_not_outside(bound, inside, outside):
    assert bound.holds(inside) and not bound.holds(outside)


def test_the_bound_is_written_once_and_read_back_in_words_and_evidence():
    claim = FAST.of(0.0604)
    assert claim.statement == "a thing takes under 0.3x"
    assert claim.evidence == "0.0604x, needs under 0.3x"
    assert claim.margin == pytest.approx((0.3 - 0.0604) / 0.3)
    assert COUNT.of(4).margin is None  # an exact bound: no near miss


def test_claims_go_through_json_unchanged():
    for claim in (FAST.of(0.1, detail="median of 3"), COUNT.of(3),
                  FAST.not_checked("busy")):
        again = Claim.from_json(json.loads(json.dumps(claim.to_json())))
        assert again == claim and again.verdict == claim.verdict


def test_three_verdicts_print_distinctly_and_a_shared_reason_once():
    lines = explain([FAST.of(0.1), COUNT.of(3), FAST.not_checked("no strace"),
                     COUNT.not_checked("no strace")]).splitlines()
    assert lines[0].startswith("held: a thing takes under 0.3x (0.1x")
    assert lines[1].startswith("NOT HELD: the demo made exactly 4 calls (3,")
    assert lines[2:] == ["not checked here: a thing takes under 0.3x",
                         "not checked here: the demo made exactly 4 calls",
                         "  because no strace"]


def test_publish_exits_1_only_for_a_claim_not_held(tmp_path):
    code = ("from snippets.report import check, equals, publish\n"
            "c = check('one', 'one is {{bound}}', equals(1))\n"
            "publish([c.not_checked('tool missing'), check('y', 'y', equals(1))"
            ".of({})])")
    for value, status in ((1, 0), (2, 1)):
        env = {"SNIPPET_OUTPUT_DIR": str(tmp_path / str(value)), "PATH": "/usr/bin",
               "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", code.format(value)], env=env,
                             capture_output=True, text=True, timeout=30)
        assert run.returncode == status, run.stderr
        data = json.loads((tmp_path / str(value) / "claims.json").read_text())
        assert [c["verdict"] for c in data] == [
            "not checked here", "held" if status == 0 else "not held"]


def _timing_claim(ok: bool) -> list[Claim]:
    return [FAST.of(0.1 if ok else 0.5), COUNT.of(4)]


def test_check_timing_retries_a_failing_timing_claim_then_stops():
    calls = []
    checked = check_timing(lambda: calls.append(1) or len(calls),
                           lambda n: _timing_claim(n >= 2), attempts=3)
    assert checked.attempts == 2 and not failed(checked.claims)


def test_a_timing_failure_on_a_quiet_machine_stays_not_held(monkeypatch):
    monkeypatch.setattr(measure.Load, "busy", property(lambda self: False))
    checked = check_timing(lambda: 0, lambda _: _timing_claim(False), attempts=2)
    assert checked.attempts == 2
    assert [c.verdict.word for c in checked.claims] == ["not held", "held"]


def test_a_timing_failure_on_a_busy_machine_is_not_checked_with_the_reason(
        monkeypatch):
    monkeypatch.setattr(measure.Load, "busy", property(lambda self: True))
    monkeypatch.setattr(measure.watch_load, "__exit__",
                        lambda self, *a: setattr(self.load, "others", 1.0))
    checked = check_timing(lambda: 0, lambda _: _timing_claim(False), attempts=2)
    first = checked.claims[0]
    assert first.verdict is Verdict.NOT_CHECKED and "machine busy" in first.reason
    assert "1.0 of" in first.reason


def test_exact_counts_are_never_excused_by_a_busy_machine(monkeypatch):
    monkeypatch.setattr(measure.Load, "busy", property(lambda self: True))
    checked = check_timing(lambda: 0, lambda _: [COUNT.of(3)])
    assert checked.attempts == 1 and failed(checked.claims)


@counter_case("fast")
def test_a_counter_case_must_refute_what_it_declares():
    refute([FAST.of(0.9)], "fast")


def test_a_declared_counter_case_that_does_not_refute_fails():
    @counter_case("fast")
    def lazy():
        pass
    with pytest.raises(AssertionError, match="declared but never refuted"):
        lazy()
    with pytest.raises(AssertionError, match="came out held"):
        refute([FAST.of(0.1)], "fast")


def test_every_finding_the_site_publishes_has_a_counter_case(site):
    """The meta-test: a finding whose test never fed it a result from a system that
    behaves otherwise could be one that cannot fail."""
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        importlib.import_module(path.stem)  # each registers its counter-cases
    published = json.loads((site / "claims.json").read_text())["claims"]
    findings = {(c["module"].split(".")[1], c["id"]) for c in published
                if c["kind"] == "finding" and c["module"].count(".") >= 2}
    missing = sorted(findings - set(COUNTER_CASES))
    assert not missing, ("findings with no counter-case (a test decorated "
                         f"@counter_case(id) in tests/test_<episode>.py): {missing}")
    assert episode_of("test_threads") == "threads"


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
