"""The six-stages episode: its OS demos' claims hold when their functions run here."""

from __future__ import annotations

import math
import os

import pytest

from snippets.report import explain, failed
from snippets.six_stages import buffered_writes, kernel_copy, light_floor, sleep_minimum
from snippets.syscalls import rw_calls


def check(claims) -> None:
    bad = failed(claims)
    assert not bad, explain(bad)


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI must measure this, but: {reason}")
    pytest.skip(reason)


def test_buffering_turns_100000_writes_into_one_per_buffer():
    result = buffered_writes.measure()
    check(buffered_writes.claims(result))
    if rw_calls() is None:
        unavailable("no /proc/self/io here: write calls can't be counted")
    assert result.calls == {"unbuffered": 100_000,
                            "buffered": math.ceil(1_600_000 / buffered_writes.BUFFER)}


def test_sleep_never_returns_early():
    results = sleep_minimum.measure()
    check(sleep_minimum.claims(results))
    for sleeps in results:
        assert min(sleeps.elapsed_ns) >= sleeps.requested_ns  # a floor, never a ceiling


def test_the_speed_of_light_floor():
    result = light_floor.measure()
    check(light_floor.claims(result))
    assert light_floor.one_way_ms(1000) == pytest.approx(4.9, abs=0.05)
    assert 95 < result.far_side_ms < 100


def test_copyfile_lets_the_kernel_copy():
    result = kernel_copy.measure()
    check(kernel_copy.claims(result))
    if result.reason:
        unavailable(result.reason)
    assert result.calls["shutil.copyfile"].count("read") == 0
    assert result.calls["read/write loop"].count("read") == 65
