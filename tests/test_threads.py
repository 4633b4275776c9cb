"""The threads episode: each demo's claims hold when its functions run here, and a
system that behaves otherwise breaks each finding."""

from __future__ import annotations

import socket
import threading

import pytest
from claimcheck import check, check_timed, counter_case, refute, unavailable

from snippets.report import NotMeasurable, failed
from snippets.threads import (
    accept_spread,
    accept_wakeups,
    cpu_bound,
    epoll_files,
    gil_release,
    io_bound,
    log_thread,
    lost_update,
    reuseport,
    scaling,
    thread_cost,
    tiny_tasks,
)

needs_reuseport = pytest.mark.skipif(
    not hasattr(socket, "SO_REUSEPORT"),
    reason="no SO_REUSEPORT on this platform (Linux >= 3.9 has it)")


def test_blocking_waits_overlap_in_a_pool_and_in_asyncio():
    check_timed(io_bound)


@counter_case("pool-fraction", "asyncio-fraction", "asyncio-no-thread")
def test_waits_that_do_not_overlap_break_the_io_findings():
    # a pool whose threads block one another, an event loop that ran its sleeps
    # one after another on a helper thread
    serial = io_bound.IoResult(20, 0.02, sequential=0.40, pool=0.41, asyncio=0.40,
                               threads_before=1, threads_in_loop=2)
    refute(io_bound.claims(serial), "pool-fraction", "asyncio-fraction",
           "asyncio-no-thread")


def test_pure_python_cpu_work_needs_processes_under_the_gil():
    check_timed(cpu_bound)


def cpu_result(gil, cores, thread_rate, proc_rate):
    return cpu_bound.CpuResult(2, cores, gil, {"threads": 1.0, "processes": 1.0},
                               {"threads": [thread_rate] * 3,
                                "processes": [proc_rate] * 3})


@counter_case("python-threads-overlap", "python-processes-overlap")
def test_threads_that_overlap_under_the_gil_or_processes_that_do_not_break_it():
    # a GIL build whose threads ran Python at once; processes squeezed onto one core
    refute(cpu_bound.claims(cpu_result(True, 2, 1.9, 1.1)),
           "python-threads-overlap", "python-processes-overlap")
    # free-threaded, yet its threads took turns
    refute(cpu_bound.claims(cpu_result(False, 2, 1.0, 1.9)), "python-threads-overlap")


@pytest.mark.parametrize("gil, cores, thread_rate, proc_rate", [
    (True, 2, 1.0, 1.9),  # the GIL: threads take turns, processes overlap
    (False, 2, 1.9, 1.9),  # free-threaded: threads are expected to overlap
    (False, 1, 1.0, 1.0),  # one core: nothing overlaps
])
def test_what_the_cpu_findings_expect_follows_the_build_and_the_cores(
        gil, cores, thread_rate, proc_rate):
    assert not failed(cpu_bound.claims(cpu_result(gil, cores, thread_rate,
                                                  proc_rate)))


def test_hashlib_releases_the_gil():
    check_timed(gil_release)


@counter_case("hash-threads-overlap")
def test_a_hash_that_holds_the_gil_breaks_the_finding():
    # a hashlib built to keep the GIL while it hashes: the threads take turns
    held = gil_release.HashResult(2, 16, 6, cores=2, speedup=1.0,
                                  per_wall=[1.02, 0.99, 1.05, 1.01], mismatched=0)
    refute(gil_release.claims(held), "hash-threads-overlap")


def test_tiny_tasks_thread_each_then_pool_then_inline():
    check_timed(tiny_tasks)


@counter_case("thread-each-vs-pool", "pool-vs-inline")
def test_cheap_threads_or_an_inline_pool_break_the_tiny_task_findings():
    # green threads as cheap to start as a queue hand-off; a pool that runs each
    # task on the caller's thread
    cheap = tiny_tasks.TinyResult(1000, 4, {"a thread per task": 0.0090,
                                            "a pool of 4 threads": 0.0100,
                                            "inline": 0.0100}, differ=0)
    refute(tiny_tasks.claims(cheap), "thread-each-vs-pool", "pool-vs-inline")


def test_tiny_tasks_leave_no_thread_behind():
    before = threading.active_count()
    tiny_tasks.thread_each(100)
    assert threading.active_count() == before


def test_a_thread_reserves_a_stack_and_touches_little_of_it():
    before = threading.active_count()
    check_timed(thread_cost)
    assert threading.active_count() == before


@counter_case("thread-start-cost", "stack-mapping-each", "vmsize-per-thread",
              "vmrss-per-thread")
def test_other_thread_libraries_break_the_cost_findings():
    # musl: a 128 KiB stack whatever RLIMIT_STACK says, and threads that start
    # about as fast as a call returns
    musl = {"threads": 100, "ratio": 20.0, "stack_mib": 8.0,
            "per_thread": {"VmSize": 0.14, "VmRSS": 0.01, "stacks": 0}}
    refute(thread_cost.claims(musl), "thread-start-cost", "stack-mapping-each",
           "vmsize-per-thread")
    # a libc that pre-faults every stack page it maps
    touched = {"threads": 100, "ratio": 2000.0, "stack_mib": 8.0,
               "per_thread": {"VmSize": 8.1, "VmRSS": 8.0, "stacks": 100}}
    refute(thread_cost.claims(touched), "vmrss-per-thread")


def test_a_durable_write_stalls_the_loop_unless_a_thread_does_it():
    before = threading.active_count()
    check_timed(log_thread, ticks=60)
    assert threading.active_count() == before


@counter_case("log-stall-ratio")
def test_a_free_fsync_breaks_the_stall_finding():
    # tmpfs: fsync returns at once, so inline logging costs about a queue put
    free = {"ticks": 100,
            "inline": {"stall": 3e-6, "max_gap": 0.0011, "lines": 100},
            "logging thread": {"stall": 2e-6, "max_gap": 0.0011, "lines": 100}}
    refute(log_thread.claims(free), "log-stall-ratio")


@needs_reuseport
def test_so_reuseport_spreads_connections_across_listeners():
    before = threading.active_count()
    check(reuseport.claims(reuseport.measure()))
    assert threading.active_count() == before


@counter_case("reuseport-fewest", "reuseport-most", "bind-without-reuseport")
def test_a_kernel_that_does_not_spread_breaks_the_reuseport_findings():
    # one listener takes every connection (macOS: SO_REUSEPORT without balancing),
    # and a stack that lets a plain second socket bind the same port
    bsd = {"clients": 400, "counts": [400, 0, 0, 0], "without_option": "no error"}
    refute(reuseport.claims(bsd), "reuseport-fewest", "reuseport-most",
           "bind-without-reuseport")


@needs_reuseport
def test_accept_on_one_socket_vs_a_listener_each():
    before = threading.active_count()
    check(accept_spread.claims(accept_spread.measure(threads=4, clients=200)))
    assert threading.active_count() == before


@counter_case("accept-reuseport-fewest", "accept-reuseport-most")
def test_an_uneven_spread_breaks_the_accept_findings():
    busiest = {"clients": 400, "shared": [100] * 4, "reuseport": [160, 80, 80, 80]}
    refute(accept_spread.claims(busiest), "accept-reuseport-most")
    starved = {"clients": 400, "shared": [100] * 4, "reuseport": [40, 120, 120, 120]}
    refute(accept_spread.claims(starved), "accept-reuseport-fewest")
    even = {"clients": 400, "shared": [100] * 4, "reuseport": [100] * 4}
    assert not failed(accept_spread.claims(even))


def test_a_connection_wakes_one_accept_every_epoll_or_one_exclusive_epoll():
    before = threading.active_count()
    try:
        r = accept_wakeups.measure(connections=6)
    except NotMeasurable as why:
        unavailable(why.reason)
    check(accept_wakeups.claims(r))
    assert threading.active_count() == before


def wakeups(accept, herd, exclusive):
    return {"threads": 4, "accept()": [accept] * 10, "epoll": [herd] * 10,
            "epoll + EPOLLEXCLUSIVE": [exclusive] * 10}


@counter_case("accept-wakes-one", "epoll-wakes-all", "epollexclusive-wakes-one")
def test_other_wake_up_policies_break_the_wakeup_findings():
    # a kernel that wakes every waiter, in accept() and in epoll alike: accept()
    # before Linux's wake-one, EPOLLEXCLUSIVE on a kernel older than 4.5
    refute(accept_wakeups.claims(wakeups(4, 4, 4)), "accept-wakes-one",
           "epollexclusive-wakes-one")
    # an epoll that wakes one instance by default
    refute(accept_wakeups.claims(wakeups(1, 1, 1)), "epoll-wakes-all")


def test_epoll_takes_a_socket_and_refuses_a_file():
    try:
        r = epoll_files.measure()
    except NotMeasurable as why:
        unavailable(why.reason)
    check(epoll_files.claims(r))


@counter_case("epoll-refuses-file")
def test_a_poller_that_watches_files_breaks_the_epoll_finding():
    # kqueue (BSD, macOS) watches a regular file for reading
    kqueue = {"a TCP socket": "added", "a regular file": "added"}
    refute(epoll_files.claims(kqueue), "epoll-refuses-file")


def test_threads_lose_updates_without_a_lock_and_none_with_one():
    before = threading.active_count()
    check(lost_update.claims(lost_update.measure()))
    assert threading.active_count() == before


@counter_case("lost-updates", "lock-loses-none")
def test_an_atomic_update_or_a_lock_released_while_blocked_breaks_the_findings():
    # a runtime whose read-modify-write is atomic (an AtomicInteger, say)
    atomic = {"threads": 2, "steps": 500, "no lock": 0, "threading.Lock": 0}
    refute(lost_update.claims(atomic), "lost-updates")
    # a lock that, like the GIL, is let go of during a blocking call
    gil_like = {"threads": 2, "steps": 500, "no lock": 500, "threading.Lock": 500}
    refute(lost_update.claims(gil_like), "lock-loses-none")


def test_scaling_io_vs_cpu_workers():
    check_timed(scaling)


def scaling_result(gil=True, cores=2, thread_rate=1.0, proc_rate=1.9, gain=1.0,
                   io=8.0):
    counts = (1, 2, 4, 8)
    walls = {1: [8.0] * 3, 2: [4.0] * 3, 4: [4.0] * 3, 8: [4.0 / gain] * 3}
    rates = {s: {w: [1.0] * 3 for w in counts} for s in scaling.SERIES}
    rates["CPU, threads"][2] = [thread_rate] * 3
    rates["CPU, processes"][2] = [proc_rate] * 3
    series = {s: [(w, io if w == 8 else float(w)) for w in counts]
              for s in scaling.SERIES}
    return {"series": series, "rates": rates,
            "walls": {s: walls for s in scaling.SERIES}, "cores": cores, "gil": gil}


@counter_case("scaling-io-speedup", "scaling-threads-overlap",
              "scaling-processes-overlap", "scaling-no-gain-past-cores")
def test_workers_that_do_not_scale_as_expected_break_the_scaling_findings():
    refute(scaling.claims(scaling_result(io=1.1)), "scaling-io-speedup")  # serial
    refute(scaling.claims(scaling_result(thread_rate=1.9)), "scaling-threads-overlap")
    refute(scaling.claims(scaling_result(proc_rate=1.1)), "scaling-processes-overlap")
    # 8 processes gaining 2x over 2: more cores than the claims were told about
    refute(scaling.claims(scaling_result(gain=2.0)), "scaling-no-gain-past-cores")


@pytest.mark.parametrize("gil, thread_rate", [(True, 1.0), (False, 1.9)])
def test_the_scaling_findings_follow_the_build(gil, thread_rate):
    claims = scaling.claims(scaling_result(gil=gil, thread_rate=thread_rate))
    assert not failed(claims) and all(c.held for c in claims)
