"""The six-stages episode: its demos' claims hold when their functions run here."""

from __future__ import annotations

import math
import os
import shutil
import sys

import pytest
from claimcheck import check, check_timed

from snippets.six_stages import (
    buffered_writes,
    kernel_copy,
    light_floor,
    sleep_minimum,
    tcp_lifecycle,
)
from snippets.syscalls import rw_calls


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must measure this, but: {reason}")
    pytest.skip(reason)


def test_buffering_turns_100000_writes_into_one_per_buffer():
    if rw_calls() is None:
        unavailable("no /proc/self/io here: write calls can't be counted")
    result = check_timed(buffered_writes)
    assert result.calls == {"unbuffered": 100_000,
                            "buffered": math.ceil(1_600_000 / buffered_writes.BUFFER)}


def test_sleep_never_returns_early_and_always_late():
    results = check_timed(sleep_minimum)
    for sleeps in results:
        assert min(sleeps.elapsed_ns) > sleeps.requested_ns  # a floor, never a ceiling


def test_the_speed_of_light_floors_are_arithmetic():
    assert light_floor.HALF_EQUATOR_KM == 20_037.5
    assert light_floor.one_way_ms(light_floor.HALF_EQUATOR_KM) == pytest.approx(
        66.84, abs=0.01)
    assert light_floor.one_way_ms(light_floor.HALF_EQUATOR_KM, 1.47) == pytest.approx(
        98.26, abs=0.01)
    result = check_timed(light_floor)
    assert list(result["floors_ms"]) == list(light_floor.MEDIA)


def test_copyfile_lets_the_kernel_copy_with_this_versions_call():
    result = kernel_copy.measure()
    check(kernel_copy.claims(result))
    if result.reason:
        unavailable(result.reason)
    want = "copy_file_range" if sys.version_info >= (3, 14) else "sendfile"
    assert result.expected == want
    assert getattr(shutil, "_USE_CP_COPY_FILE_RANGE", False) is (want != "sendfile")
    assert result.calls["shutil.copyfile"].count("read") == 0
    assert result.calls["read/write loop"].count("read") == 65


def test_a_copyfile_that_reads_or_uses_the_wrong_call_fails():
    loop = ["read"] * 65
    for kernel, expected, holds in [(["sendfile"] * 2, "sendfile", True),
                                    (["read", "sendfile"], "sendfile", False),
                                    (["sendfile"], "copy_file_range", False),
                                    (["sendfile", "copy_file_range"], "copy_file_range",
                                     False),  # tried second, not first
                                    (["copy_file_range"], "copy_file_range", True)]:
        copies = kernel_copy.Copies({"read/write loop": loop, "shutil.copyfile": kernel},
                                    expected, {"a": True})
        assert all(c.held for c in kernel_copy.claims(copies)) is holds


def test_tcp_connect_read_close_on_loopback():
    seen = tcp_lifecycle.measure()
    check(tcp_lifecycle.claims(seen))
    assert seen == tcp_lifecycle.EXPECTED
