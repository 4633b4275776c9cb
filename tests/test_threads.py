"""The threads episode: each demo's claims hold when its functions run here."""

from __future__ import annotations

import socket
import threading

import pytest
from claimcheck import check, check_timed

from snippets.report import failed
from snippets.threads import (
    accept_mutex,
    cpu_bound,
    gil_release,
    io_bound,
    log_thread,
    reuseport,
    scaling,
    thread_cost,
    tiny_tasks,
)

needs_reuseport = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT"),
    reason="no SO_REUSEPORT on this platform (Linux >= 3.9 has it)")


def test_blocking_waits_overlap_in_a_pool_and_in_asyncio():
    result = check_timed(io_bound)
    assert result.sequential >= result.tasks * result.delay
    assert result.threads_in_loop == result.threads_before


def test_pure_python_cpu_work_needs_processes_under_the_gil():
    result = check_timed(cpu_bound)
    assert result.gil == cpu_bound.gil_enabled()
    assert all(len(v) == cpu_bound.ROUNDS for v in result.per_wall.values())


def cpu_result(gil, cores, thread_rate, proc_rate):
    return cpu_bound.CpuResult(2, cores, gil, {"threads": 1.0, "processes": 1.0},
                               {"threads": [thread_rate] * 3,
                                "processes": [proc_rate] * 3})


@pytest.mark.parametrize("gil, cores, thread_rate, proc_rate, holds", [
    (True, 2, 1.0, 1.9, True),  # the GIL: threads take turns, processes overlap
    (True, 2, 1.9, 1.9, False),  # a GIL build where threads overlapped: fails
    (True, 2, 1.0, 1.1, False),  # processes that did not overlap: fails
    (False, 2, 1.9, 1.9, True),  # free-threaded: threads are expected to overlap
    (False, 2, 1.0, 1.9, False),
    (False, 1, 1.0, 1.0, True),  # one core: nothing overlaps
    (True, 1, 1.0, 1.9, False),
])
def test_cpu_claims_follow_the_build_and_the_core_count(gil, cores, thread_rate,
                                                        proc_rate, holds):
    claims = cpu_bound.claims(cpu_result(gil, cores, thread_rate, proc_rate))
    assert (not failed(claims)) is holds
    assert all(c.timing for c in claims)


def test_hashlib_releases_the_gil():
    result = check_timed(gil_release)
    assert result.same_digests


def test_tiny_tasks_thread_each_then_pool_then_inline():
    result = check_timed(tiny_tasks)
    assert result.all_done and len(result.seconds) == 3


def test_tiny_tasks_leave_no_thread_behind():
    before = threading.active_count()
    tiny_tasks.thread_each(100)
    assert threading.active_count() == before


def test_a_thread_reserves_a_stack_and_touches_little_of_it():
    before = threading.active_count()
    result = check_timed(thread_cost)
    assert result["per_thread"]["stacks"] >= result["threads"]
    assert threading.active_count() == before


def test_a_durable_write_stalls_the_loop_unless_a_thread_does_it():
    before = threading.active_count()
    result = check_timed(log_thread, ticks=60)
    assert result["inline"]["lines"] == result["logging thread"]["lines"] == 60
    assert threading.active_count() == before


@needs_reuseport
def test_so_reuseport_spreads_connections_across_listeners():
    before = threading.active_count()
    result = reuseport.measure()
    check(reuseport.claims(result))
    assert sum(result["counts"]) == 400 and len(result["counts"]) == 4
    assert result["without_option"] == "EADDRINUSE"
    assert threading.active_count() == before


@needs_reuseport
def test_accept_on_one_socket_vs_a_listener_each():
    before = threading.active_count()
    result = accept_mutex.measure(threads=4, clients=200)
    check(accept_mutex.claims(result))
    assert sum(result["shared"]) == sum(result["reuseport"]) == 200
    assert threading.active_count() == before


@pytest.mark.parametrize("counts, holds", [
    ([100, 100, 100, 100], True), ([160, 80, 80, 80], False), ([40, 120, 120, 120],
                                                                False)])
def test_a_fair_share_means_a_band_around_one_nth(counts, holds):
    result = {"clients": 400, "shared": [100] * 4, "reuseport": counts}
    assert (not failed(accept_mutex.claims(result))) is holds


def test_scaling_io_vs_cpu_workers():
    result = check_timed(scaling)
    assert [w for w, _ in result["series"]["I/O, threads"]] == [1, 2, 4, 8]


def scaling_result(gil, cores, thread_rate, proc_rate, gain):
    counts = (1, 2, 4, 8)
    walls = {1: [8.0] * 3, 2: [4.0] * 3, 4: [4.0] * 3, 8: [4.0 / gain] * 3}
    rates = {s: {w: [1.0] * 3 for w in counts} for s in scaling.SERIES}
    rates["CPU, threads"][2] = [thread_rate] * 3
    rates["CPU, processes"][2] = [proc_rate] * 3
    series = {s: [(w, 8.0) for w in counts] for s in scaling.SERIES}
    return {"series": series, "rates": rates,
            "walls": {s: walls for s in scaling.SERIES}, "cores": cores, "gil": gil}


@pytest.mark.parametrize("gil, cores, thread_rate, proc_rate, gain, holds", [
    (True, 2, 1.0, 1.9, 1.0, True),
    (True, 2, 1.9, 1.9, 1.0, False),  # threads overlapped under the GIL
    (True, 2, 1.0, 1.1, 1.0, False),  # processes did not gain at all
    (True, 2, 1.0, 1.9, 2.0, False),  # processes gained past the core count
    (False, 2, 1.9, 1.9, 1.0, True),  # free-threaded: threads are expected to scale
    (False, 2, 1.0, 1.9, 1.0, False),
])
def test_scaling_claims_follow_the_build(gil, cores, thread_rate, proc_rate, gain,
                                         holds):
    claims = scaling.claims(scaling_result(gil, cores, thread_rate, proc_rate, gain))
    assert (not failed(claims)) is holds
    assert sum(c.held is None for c in claims) == 0
