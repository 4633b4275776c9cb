"""How a test judges a snippet's claims: the same three verdicts as the build.

*not held* fails the test; *not checked here* skips it with the claim's reason;
*held* passes. Timing claims go through ``measure.check_timing``, exactly as the
snippet's ``main()`` runs them for the page.
"""

from __future__ import annotations

import os

import pytest

from snippets.measure import check_timing
from snippets.report import Claim, explain, failed, unchecked


def check(claims: list[Claim]) -> list[Claim]:
    bad = failed(claims)
    assert not bad, explain(bad)
    skipped = unchecked(claims)
    if skipped:
        pytest.skip(explain(skipped))
    return claims


def check_demo(demo, result) -> None:
    """Judge `demo.claims(result)`: for measurements that time nothing."""
    check(demo.claims(result))


def check_timed(demo, **kwargs):
    """Measure `demo` with the shared timing rule, judge its claims, return the
    result (a busy machine skips, after re-measuring, with how busy it was)."""
    checked = check_timing(lambda: demo.measure(**kwargs), demo.claims)
    check(checked.claims)
    return checked.result


def unavailable(reason: str, what: str = "CI must measure this") -> None:
    """Something this test needs is missing here (a tool, a server, a kernel
    feature): skip with the reason, except under CI, which installs everything the
    pages measure, where a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}, but: {reason}")
    pytest.skip(reason)
