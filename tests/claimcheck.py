"""How a test judges a snippet's claims: the same three verdicts as the build.

*not held* fails the test; *not checked here* skips it with the claim's reason;
*held* passes. Timing claims go through ``measure.check_timing``, exactly as the
snippet's ``main()`` runs them for the page.

A finding also needs a **counter-case**: a test that feeds it a plausible result
from a system that behaves otherwise and sees it come out *not held*::

    @counter_case("pool-fraction")
    def test_a_pool_that_did_not_overlap_breaks_the_finding():
        refute(io_bound.claims(io_result(pool=0.9)), "pool-fraction")

`counter_case` records the ids (by episode, from the test module's name) for the
meta-test that every published finding has one; the test then fails unless it
refuted each id it declared.
"""

from __future__ import annotations

import contextvars
import functools
import os

import pytest

from snippets.measure import check_timing
from snippets.report import Claim, explain, failed, unchecked

COUNTER_CASES: dict[tuple[str, str], str] = {}  # (episode, id) -> the test's name
_REFUTED: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar(
    "refuted", default=None)


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


def episode_of(test_module: str) -> str:
    return test_module.rsplit(".", 1)[-1].removeprefix("test_")


def counter_case(*ids: str):
    """Declare that the test refutes these findings with a counter-measurement."""
    def wrap(test):
        episode = episode_of(test.__module__)
        for claim_id in ids:
            COUNTER_CASES[(episode, claim_id)] = test.__name__

        @functools.wraps(test)
        def run(*args, **kwargs):
            token = _REFUTED.set(set())
            try:
                result = test(*args, **kwargs)
                missing = set(ids) - (_REFUTED.get() or set())
            finally:
                _REFUTED.reset(token)
            assert not missing, f"declared but never refuted: {sorted(missing)}"
            return result
        return run
    return wrap


def refute(claims: list[Claim], *ids: str) -> None:
    """Assert that each named claim came out *not held* for this made-up result."""
    by_id = {c.id: c for c in claims}
    for claim_id in ids:
        assert claim_id in by_id, f"no claim {claim_id!r} in {sorted(by_id)}"
        claim = by_id[claim_id]
        assert claim.held is False, (
            f"{claim_id}: the counter-case came out {claim.verdict.word}: "
            f"{claim.statement} ({claim.evidence or claim.reason})")
        refuted = _REFUTED.get()
        if refuted is not None:
            refuted.add(claim_id)


def unavailable(reason: str, what: str = "CI must measure this") -> None:
    """Something this test needs is missing here (a tool, a server, a kernel
    feature): skip with the reason, except under CI, which installs everything the
    pages measure, where a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{what}, but: {reason}")
    pytest.skip(reason)
