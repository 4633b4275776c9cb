"""The six-stages episode: its demos' claims hold when their functions run here, and
each finding comes out not held for a system that behaves otherwise."""

from __future__ import annotations

import re

import claimcheck
import pytest
from claimcheck import check, check_timed, counter_case, refute

from snippets import netns
from snippets.report import NotMeasurable
from snippets.six_stages import (
    accept_queue,
    buffered_writes,
    fast_open,
    kernel_copy,
    light_floor,
    reset_errors,
    sleep_minimum,
    tcp_lifecycle,
)
from snippets.syscalls import rw_calls


def test_buffering_turns_100000_writes_into_one_per_buffer():
    if rw_calls() is None:
        claimcheck.unavailable("no /proc/self/io here: write calls can't be counted")
    check_timed(buffered_writes)


@counter_case("buffered-speedup", "buffered-one-call-per-buffer")
def test_a_line_buffered_file_breaks_the_buffering_findings():
    # every record ends in a newline: a line-buffered file writes each one at once,
    # so "buffered" costs as many calls, and as much time, as unbuffered
    lines = buffered_writes.Writes({"unbuffered": 100_000, "buffered": 100_000},
                                   {"unbuffered": 0.20, "buffered": 0.19}, 1.05)
    refute(buffered_writes.claims(lines), "buffered-speedup",
           "buffered-one-call-per-buffer")


@counter_case("unbuffered-one-call-each")
def test_an_unbuffered_stream_that_still_gathers_records_breaks_the_count():
    # a stdio-like layer under buffering=0 that gathers records into 4 KiB writes
    gathered = buffered_writes.Writes({"unbuffered": 391, "buffered": 196},
                                      {"unbuffered": 0.03, "buffered": 0.02}, 1.4)
    refute(buffered_writes.claims(gathered), "unbuffered-one-call-each")


def sleeps(requested_us, elapsed_us, slack_ns=50_000):
    return sleep_minimum.Sleeps(requested_us * 1000, slack_ns,
                                [e * 1000 for e in elapsed_us])


def test_sleep_never_returns_early_and_always_late():
    check_timed(sleep_minimum)


@counter_case("sleep-never-early", "sleep-always-late")
def test_a_kernel_whose_1ms_sleep_returns_early_breaks_the_floor():
    # a clock stepped backwards (or a timer on a coarser clock) wakes some 1 ms
    # sleeps 100 us early and one exactly on time
    early = [sleeps(100, [180] * 200), sleeps(1000, [900, 1000] + [1090] * 148),
             sleeps(5000, [5100] * 20), sleeps(1000, [1040] * 150, slack_ns=1)]
    refute(sleep_minimum.claims(early), "sleep-never-early", "sleep-always-late")


@counter_case("slack-shrinks-lateness")
def test_a_kernel_that_ignores_timer_slack_breaks_the_slack_finding():
    # real-time tasks get no slack: the 1 ns setting changes nothing
    same = [sleeps(100, [160] * 200), sleeps(1000, [1060] * 150),
            sleeps(5000, [5060] * 20), sleeps(1000, [1060] * 150, slack_ns=1)]
    refute(sleep_minimum.claims(same), "slack-shrinks-lateness")


def test_copyfile_lets_the_kernel_copy_with_this_versions_call():
    try:
        result = kernel_copy.measure()
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason)
    check(kernel_copy.claims(result))


@counter_case("copyfile-no-reads", "copyfile-first-call")
def test_a_copyfile_that_reads_or_uses_another_call_breaks_the_findings():
    loop = ["read"] * 65
    # a Python (or a filesystem) where copyfile falls back to reading and writing
    fallback = kernel_copy.Copies({"read/write loop": loop, "shutil.copyfile": loop},
                                  list(kernel_copy.HOWS))
    refute(kernel_copy.claims(fallback), "copyfile-no-reads", "copyfile-first-call")
    # a Python whose copyfile tries the other kernel call first
    other = next(n for n in kernel_copy.KERNEL_CALLS if n != kernel_copy.DOCUMENTED)
    swapped = kernel_copy.Copies({"read/write loop": loop,
                                  "shutil.copyfile": [other, kernel_copy.DOCUMENTED]},
                                 list(kernel_copy.HOWS))
    refute(kernel_copy.claims(swapped), "copyfile-first-call")


def test_tcp_connect_read_close_on_loopback():
    check(tcp_lifecycle.claims(tcp_lifecycle.measure()))


LINUX = {step: expect.bound.value for step, expect in tcp_lifecycle.STEPS.items()}
OTHERWISE = {  # a step, what another TCP stack could do there, the finding it breaks
    "connect() before any accept()": ("TimeoutError", "connect-before-accept"),
    "client sends before accept()": ("TimeoutError (timed out)", "send-before-accept"),
    "server reads after accept()": ("TimeoutError (timed out)", "read-after-accept"),
    "client reads after server close()": ("ConnectionResetError (ECONNRESET)",
                                          "read-after-fin"),
    "client sends to the closed peer": ("BrokenPipeError (EPIPE)", "send-after-close"),
    "client sends again": ("ConnectionResetError (ECONNRESET)", "send-after-rst"),
}


@counter_case(*(finding for _, finding in OTHERWISE.values()))
def test_stacks_that_behave_otherwise_break_the_lifecycle_findings():
    # a stack that completes the handshake only in accept(); one that makes a send
    # wait for accept(); one that drops data that came before accept(); one that
    # resets on close instead of sending FIN; one that refuses a send once the
    # peer has closed; one that reports the RST as ECONNRESET (as Linux does when
    # no FIN came first)
    for step, (other, finding) in OTHERWISE.items():
        refute(tcp_lifecycle.claims(dict(LINUX, **{step: other})), finding)


def test_the_light_floor_is_labelled_arithmetic_and_claims_nothing(capsys):
    """Not a finding (no machine changes the speed of light): the demo must say so
    and publish no claim."""
    light_floor.main()
    out = capsys.readouterr().out
    assert "arithmetic, not a measurement" in out and "for scale only" in out
    assert not re.search(r"^(held|NOT HELD|not checked here):", out, re.MULTILINE)


@pytest.fixture
def namespaces():
    """Skip with the host's reason; under CI (where it works) fail instead."""
    reason = netns.unavailable()
    if reason:
        claimcheck.unavailable(reason, "CI must run network namespaces")


def measured(demo):
    try:
        return demo.measure()
    except NotMeasurable as why:
        claimcheck.unavailable(why.reason)


def test_a_full_accept_queue_drops_or_resets_a_connected_client(namespaces):
    check(accept_queue.claims(measured(accept_queue)))


def overflow_runs(**changes):
    """What Linux gave (abort_on_overflow 0, then 1), with some steps changed."""
    drop = {"connect()": "ESTABLISHED / SYN_RECV", "queue": 2, "overflows": 1,
            "after": "none / SYN_RECV", "accept()": ["queued", "queued"],
            "room": '"late"'}
    reset = dict(drop, after="ECONNRESET / none", room="-")
    return {0: dict(drop, **changes), 1: reset}


@counter_case("connect-before-queued", "queue-holds-backlog-plus-one",
              "full-queue-drops-silently", "accept-misses-late-client",
              "overflow-recovers", "full-queue-resets")
def test_stacks_that_queue_otherwise_break_the_accept_queue_findings():
    cases = {  # what another stack could do, and the finding it breaks
        "connect-before-queued": {"connect()": "ESTABLISHED / ESTABLISHED"},
        "queue-holds-backlog-plus-one": {"queue": 1},  # backlog means backlog
        "full-queue-drops-silently": {"after": "ECONNRESET / none"},  # resets anyway
        "accept-misses-late-client": {"accept()": ["queued", "queued", "late"]},
        "overflow-recovers": {"room": "not within 2 s"},  # the request was dropped
    }
    for finding, change in cases.items():
        refute(accept_queue.claims(overflow_runs(**change)), finding)
    silent = overflow_runs()
    silent[1] = dict(silent[0])  # a kernel that ignores tcp_abort_on_overflow
    refute(accept_queue.claims(silent), "full-queue-resets")


def test_the_error_a_reset_leaves_depends_on_the_state():
    check(reset_errors.claims(reset_errors.measure()))


@counter_case("reset-in-syn-sent", "reset-in-established", "reset-in-close-wait",
              "reset-in-last-ack")
def test_a_stack_that_maps_resets_otherwise_breaks_the_reset_findings():
    linux = {"SYN_SENT": ("-", "ECONNREFUSED"),
             "ESTABLISHED": ("ESTABLISHED", "ECONNRESET"),
             "CLOSE_WAIT": ("CLOSE_WAIT", "EPIPE"),
             "LAST_ACK": ("CLOSE_WAIT", "ECONNRESET")}
    cases = {  # one reset reported as another stack could, and the finding it breaks
        "reset-in-syn-sent": ("SYN_SENT", "ECONNRESET"),
        "reset-in-established": ("ESTABLISHED", "EPIPE"),
        "reset-in-close-wait": ("CLOSE_WAIT", "ECONNRESET"),  # no EPIPE special case
        "reset-in-last-ack": ("LAST_ACK", "EPIPE"),  # "after a FIN, EPIPE"
    }
    for finding, (state, error) in cases.items():
        seen = dict(linux, **{state: (linux[state][0], error)})
        refute(reset_errors.claims(seen), finding)


def test_fast_open_needs_a_cookie_and_a_server_that_allows_it(namespaces):
    check(fast_open.claims(measured(fast_open)))


def tfo(asked, in_syn):
    return {"cookie asked": asked, "in SYN": in_syn, "arrived": True}


@counter_case("tfo-data-in-syn", "tfo-first-asks-cookie", "tfo-off-by-default")
def test_stacks_that_open_otherwise_break_the_fast_open_findings():
    cookie = [tfo(1, False), tfo(0, True), tfo(0, True)]
    plain = [tfo(1, False)] * 3
    # a middlebox that strips the option: every SYN asks again, none carries data
    refute(fast_open.claims({"server on": ("3", plain), "default": ("1", plain)}),
           "tfo-data-in-syn")
    # a client that sends data in its first SYN without a cookie (flag 0x4)
    eager = [tfo(0, True)] * 3
    refute(fast_open.claims({"server on": ("3", eager), "default": ("1", plain)}),
           "tfo-first-asks-cookie")
    # a kernel that ships the server side on (tcp_fastopen = 3 by default)
    refute(fast_open.claims({"server on": ("3", cookie), "default": ("3", cookie)}),
           "tfo-off-by-default")
