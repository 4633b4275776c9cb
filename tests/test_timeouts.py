"""Timeouts episode: every demo's claims hold, each run is bounded, and nothing is
left behind: no listening socket, no thread, no open socket. Every finding also
meets a made-up result from a system that behaves otherwise, and fails it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from claimcheck import check, counter_case, refute

from snippets.measure import check_timing
from snippets.timeouts import (
    _servers,
    cancel,
    connect,
    crash,
    deadline,
    frees,
    idle_race,
    proxy,
    queue_wait,
    slowloris,
    syn_retries,
    usage,
)

ROOT = Path(__file__).resolve().parents[1]
DEMOS = {"connect": connect, "slowloris": slowloris, "queue_wait": queue_wait,
         "usage": usage, "deadline": deadline, "cancel": cancel, "proxy": proxy,
         "idle_race": idle_race, "frees": frees, "crash": crash, "_servers": _servers,
         "syn_retries": syn_retries}
BOUND = 2.5  # seconds per attempt; the page budget is ~2 s, plus a noisy-host margin
SLOW = {"syn_retries": 4.5}  # the kernel's own SYN give-up takes 3 s at the least
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the demos read TCP_INFO and /proc: Linux only")


def listening(pids: set[int]) -> set[str]:
    """Local address:port of the listening TCP sockets these processes hold.

    `ss -ltnp` lists the whole host, where other programs open and close listeners
    all the time, so only the rows that name one of `pids` count.
    """
    if shutil.which("ss"):
        out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
        return {line.split()[3] for line in out.splitlines()
                if any(f"pid={pid}," in line for pid in pids)}
    inodes = set()  # no ss: match /proc/net/tcp inodes with the processes' fds
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                inodes.add(os.readlink(fd).removeprefix("socket:[").rstrip("]"))
            except OSError:
                pass
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(name):
            with open(name) as f:
                rows = [row.split() for row in list(f)[1:]]
            found |= {r[1] for r in rows if r[3] == "0A" and r[9] in inodes}  # LISTEN
    return found


def group_members(pgid: int) -> set[int]:
    """Processes still alive in process group `pgid`."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.add(int(stat.parent.name))
    return members


def open_sockets() -> int:
    """Socket file descriptors this process holds."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return count


def snapshot() -> dict:
    return {"listening": listening({os.getpid()}), "sockets": open_sockets(),
            "threads": {t.ident for t in threading.enumerate()}}


@pytest.fixture(scope="module")
def runs() -> dict:
    """Run every demo in-process once, through the same timing rule as the build
    (re-measured when a timing claim fails on a busy machine), with a snapshot of
    sockets and threads before and after."""
    out = {}
    for name, demo in DEMOS.items():
        before = snapshot()
        t0 = time.monotonic()
        checked = check_timing(demo.measure, demo.claims)
        seconds = (time.monotonic() - t0) / checked.attempts
        out[name] = {"checked": checked, "result": checked.result, "seconds": seconds,
                     "before": before, "after": snapshot()}
    return out


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_claims_hold(runs, name):
    check(runs[name]["checked"].claims)


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_demo_is_bounded(runs, name):
    bound = SLOW.get(name, BOUND)
    assert runs[name]["seconds"] < bound, f"{name} took {runs[name]['seconds']:.2f} s"


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_nothing_left_behind(runs, name):
    before, after = runs[name]["before"], runs[name]["after"]
    assert after["listening"] <= before["listening"], "a listener was left open"
    assert after["threads"] == before["threads"], "a thread was left running"
    assert after["sockets"] <= before["sockets"], "a socket was left open"


@linux_only
def test_queue_clients_hear_what_the_worker_did(runs):
    """The clients' answers agree with the worker's log: a 200 per request worked
    on, a 503 per request dropped."""
    check(runs["queue_wait"]["checked"].claims)
    _, wt = runs["queue_wait"]["result"].values()
    answers = list(wt["answers"].values())
    assert (answers.count("200"), answers.count("503")) == (wt["worked"],
                                                            wt["dropped"])


@linux_only
def test_without_an_idle_timeout_each_arrival_holds_one_more_worker(runs):
    check(runs["frees"]["checked"].claims)
    none, _ = runs["frees"]["result"]
    climb = [n for _, n in none.held][: frees.WORKERS + 1]
    assert climb == list(range(frees.WORKERS + 1))


# -- counter-cases: results from systems that behave otherwise -------------------


def attempts(refused=("ECONNREFUSED", 0.0001, 0), mine=("timed out", 0.5, 0),
             bounded=("ETIMEDOUT", 1.02, 1), waiting=("pending", 1.6, 1)):
    A = connect.Attempt
    return [A("closed port", *refused), A("settimeout(0.5)", *mine),
            A("TCP_USER_TIMEOUT=500ms", *bounded), A("no timeout", *waiting)]


@counter_case("closed-port-refused", "refused-at-once")
def test_a_firewall_that_drops_syns_to_closed_ports_breaks_the_refusal():
    # a host firewall that DROPs instead of REJECTing: no RST, the SYN is resent
    dropped = attempts(refused=("pending", 1.0, 1))
    refute(connect.claims(dropped), "closed-port-refused", "refused-at-once")


@counter_case("refused-at-once")
def test_a_stack_that_retries_after_a_reset_breaks_at_once():
    # Windows answers a RST by resending the SYN twice: ECONNREFUSED after ~2 s
    windows = attempts(refused=("ECONNREFUSED", 2.0, 2))
    refute(connect.claims(windows), "refused-at-once")


@counter_case("full-queue-silent", "user-timeout-etimedout", "no-timeout-pending",
              "syn-resent")
def test_a_kernel_that_resets_on_a_full_queue_breaks_the_silent_drop():
    # net.ipv4.tcp_abort_on_overflow=1: a full accept queue answers with a RST
    abort = attempts(mine=("ECONNREFUSED", 0.0, 0), bounded=("ECONNREFUSED", 0.0, 0),
                     waiting=("ECONNREFUSED", 0.0, 0))
    refute(connect.claims(abort), "full-queue-silent", "user-timeout-etimedout",
           "no-timeout-pending", "syn-resent")


@counter_case("user-timeout-late", "user-timeout-one-resend")
def test_a_user_timeout_honoured_before_the_first_resend_breaks_late():
    # a kernel that fires TCP_USER_TIMEOUT on time, with no SYN resent
    punctual = attempts(bounded=("ETIMEDOUT", 0.5, 0))
    refute(connect.claims(punctual), "user-timeout-late", "user-timeout-one-resend")


@counter_case("syn-resent")
def test_the_old_three_second_initial_rto_breaks_the_resend():
    # RFC 2988's initial RTO of 3 s (Linux before 3.1): no SYN resent by 1.6 s
    old = attempts(waiting=("pending", 1.6, 0))
    refute(connect.claims(old), "syn-resent")


def gave_up(linear=("ETIMEDOUT", 3.05, 2), plain=("ETIMEDOUT", 3.02, 1),
            syncnt=("ETIMEDOUT", 3.05, 2)):
    return [syn_retries.GaveUp(*linear), syn_retries.GaveUp(*plain),
            syn_retries.GaveUp(*syncnt)]


@counter_case("syn-linear-resends", "syncnt-resends", "syn-linear-give-up",
              "syn-same-give-up")
def test_a_kernel_that_stops_at_the_count_alone_sends_six_syns():
    # no time limit on a SYN (as before 2019's a41e8a88b06e) but linear timeouts: it
    # resends 1 + 4 times, at 1, 2, 3, 4 and 5 s, and gives up at 7 s
    count_only = gave_up(linear=("ETIMEDOUT", 7.0, 5), syncnt=("ETIMEDOUT", 7.0, 5))
    refute(syn_retries.claims(count_only), "syn-linear-resends", "syncnt-resends",
           "syn-linear-give-up", "syn-same-give-up")


@counter_case("syn-linear-resends", "syncnt-resends")
def test_a_kernel_without_linear_timeouts_resends_once():
    # before Linux 6.5 every wait doubles: 1 s, then 2 s, and the end at 3 s
    doubling = gave_up(linear=("ETIMEDOUT", 3.02, 1), syncnt=("ETIMEDOUT", 3.02, 1))
    refute(syn_retries.claims(doubling), "syn-linear-resends", "syncnt-resends")


@counter_case("syn-linear-give-up", "syn-same-give-up")
def test_a_time_limit_modelled_from_200_ms_ends_the_linear_attempt_early():
    # the bug 3256a2d6ab1f fixed: the limit built from TCP_RTO_MIN, 0.6 s for one
    # retry, checked from the first resend on: linear waits end it at 2 s
    early = gave_up(linear=("ETIMEDOUT", 2.02, 1), syncnt=("ETIMEDOUT", 2.02, 1))
    refute(syn_retries.claims(early), "syn-linear-give-up", "syn-same-give-up")


@counter_case("syn-plain-resends")
def test_a_stack_that_counts_syns_sent_gives_up_without_resending():
    # tcp_syn_retries read as SYNs in all: with 1, it gives up at the first timeout
    eager = gave_up(plain=("ETIMEDOUT", 1.01, 0))
    refute(syn_retries.claims(eager), "syn-plain-resends")


def test_the_rule_gives_the_documented_figures():
    """rule() against ip-sysctl: the defaults with linear timeouts give up at 131 s,
    and at 127 s without them, its figure before ccce324dabfe."""
    assert syn_retries.rule(6, 4) == (10, 131)
    assert syn_retries.rule(6, 0) == (6, 127)
    assert [syn_retries.rule(1, 4), syn_retries.rule(1, 0), syn_retries.rule(2, 4),
            syn_retries.rule(2, 0)] == [(2, 3), (1, 3), (5, 7), (2, 7)]


def outcome(name, client, cuts, hold):
    return slowloris.Outcome(name, client, 0.8, cuts, hold, [])


@counter_case("per-read-never-fires", "per-read-starved")
def test_a_drip_slower_than_the_read_timeout_breaks_the_per_read_findings():
    # attackers that drip every 0.5 s: each wait outlasts the 0.4 s per-read timeout
    slow_drip = [outcome("deadline", "got 200", 6, 0.3),
                 outcome("per-read", "got 200", 4, 0.4),
                 outcome("no timeout", "gave up", 0, 1.2)]
    refute(slowloris.claims(slow_drip), "per-read-never-fires", "per-read-starved")


@counter_case("deadline-cuts", "deadline-hold", "deadline-served")
def test_a_deadline_checked_only_between_whole_headers_breaks_the_deadline():
    # a server that looks at the clock only once a header is complete: never here
    unchecked = [outcome("deadline", "gave up", 0, 1.2),
                 outcome("per-read", "gave up", 0, 1.2),
                 outcome("no timeout", "gave up", 0, 1.2)]
    refute(slowloris.claims(unchecked), "deadline-cuts", "deadline-hold",
           "deadline-served")


def served(worked, dropped, wasted, answers):
    return {"answers": dict(enumerate(answers)), "worked": worked,
            "dropped": dropped, "wasted": wasted}


AS_MEASURED = served(2, 6, 0, ["200"] * 2 + ["503"] * 6)


@counter_case("no-wait-wasted")
def test_a_worker_that_keeps_up_wastes_nothing_without_a_wait_timeout():
    # work of 10 ms a request: all eight are done before anyone's patience runs out
    fast = {"no": served(8, 0, 0, ["200"] * 8), "wait": AS_MEASURED}
    refute(queue_wait.claims(fast), "no-wait-wasted")


@counter_case("wait-drops-late", "wait-answers-all", "wait-wastes-none")
def test_a_wait_clocked_from_dequeue_breaks_the_wait_timeout():
    # a server that starts the wait clock when a worker picks the request up (so no
    # request ever seems to have waited): it drops nothing and works for the gone
    late = served(8, 0, 4, ["200"] * 4 + ["gave up"] * 4)
    refute(queue_wait.claims({"no": late, "wait": late}), "wait-drops-late",
           "wait-answers-all", "wait-wastes-none")


def usage_run(heavy, units, light_waited):
    return {"heavy": heavy, "units": units, "light": "200",
            "light_waited": light_waited}


@counter_case("light-waits-behind")
def test_a_thread_per_request_server_does_not_queue_the_light_request():
    per_request = {"no": usage_run("200", 20, 0.06), "yes": usage_run("503", 5, 0.06)}
    refute(usage.claims(per_request), "light-waits-behind")


@counter_case("budget-stops-early", "freed-worker-sooner")
def test_work_that_never_looks_at_its_budget_breaks_the_usage_timeout():
    # one long uninterruptible step (a single slow query with no statement_timeout):
    # the budget is only looked at when the work is already done
    blind = {"no": usage_run("200", 20, 1.0), "yes": usage_run("503", 20, 1.0)}
    refute(usage.claims(blind), "budget-stops-early", "freed-worker-sooner")


@counter_case("per-recv-outlasted", "asyncio-timeout-cuts")
def test_a_timeout_per_read_where_a_deadline_was_meant_breaks_the_deadline_findings():
    # if settimeout bounded the whole exchange, the trickle would be cut at 0.5 s;
    # if asyncio.timeout restarted on every read, it would wait out the trickle
    swapped = [(0.5, "timed out"), (0.5, "timed out"), (0.5, "timed out"),
               (1.2, "complete")]
    refute(deadline.claims(swapped), "per-recv-outlasted", "asyncio-timeout-cuts")


def cancel_run(server, units, after):
    return {"client": "gave up", "server": server, "units": units, "after": after}


@counter_case("work-after-leaving")
def test_a_handler_cancelled_on_disconnect_stops_even_without_looking():
    # a runtime that cancels the handler when its client disconnects
    cancelled = {"ignores": cancel_run("cancelled", 5, 1),
                 "watches": cancel_run("cancelled", 5, 1)}
    refute(cancel.claims(cancelled), "work-after-leaving")


@counter_case("watcher-stops")
def test_a_client_gone_without_a_fin_is_not_seen_by_the_watcher():
    # a client host that lost power: no FIN arrives, so the watcher sees nothing
    silent = {"ignores": cancel_run("finished", 16, 12),
              "watches": cancel_run("finished", 16, 12)}
    refute(cancel.claims(silent), "watcher-stops")


def proxied(answers, finished):
    return {"answers": answers, "started": finished, "finished": finished}


def proxy_run(short_answers, short_finished):
    return {"timeout > work": proxied(["200"], 1),
            "timeout < work": proxied(short_answers, short_finished),
            "+ client retries 2x": proxied(["504"] * 3, 3),
            "+ proxy tries 2x": proxied(["504"] * 3, 6)}


@counter_case("short-timeout-504")
def test_a_timeout_between_reads_lets_a_streaming_backend_through():
    # nginx's proxy_read_timeout runs between two reads: a backend that sends its
    # header at once and the body later is relayed, not cut with a 504
    refute(proxy.claims(proxy_run(["200"], 1)), "short-timeout-504")


@counter_case("backend-finishes")
def test_a_backend_that_stops_when_the_proxy_hangs_up_does_not_finish():
    # a backend that watches its connection, like cancel.py's watcher
    refute(proxy.claims(proxy_run(["504"], 0)), "backend-finishes")


@counter_case("retries-multiply")
def test_a_backend_that_deduplicates_by_idempotency_key_works_once():
    r = {"timeout > work": proxied(["200"], 1), "timeout < work": proxied(["504"], 1),
         "+ client retries 2x": proxied(["504"] * 3, 1),
         "+ proxy tries 2x": proxied(["504"] * 3, 1)}
    refute(proxy.claims(r), "retries-multiply")


def race(states, sent, reply, next_send):
    ok = "HTTP/1.1 200 OK"
    return idle_race.Race(ok, sent, reply, next_send, 1, ok, states)


@counter_case("close-wait-before-send", "recv-eof", "reset-closes",
              "next-send-epipe")
def test_a_request_sent_before_the_idle_close_breaks_the_race_findings():
    # a server whose idle timeout is longer than the client's pause: the connection
    # is still open, the request is answered and the next send is fine
    open_still = race(("ESTABLISHED", "ESTABLISHED"), 37, "HTTP/1.1 200 OK",
                      "no error")
    refute(idle_race.claims(open_still), "close-wait-before-send", "recv-eof",
           "reset-closes", "next-send-epipe")


@counter_case("send-succeeds")
def test_a_server_that_closes_idle_connections_with_a_reset_fails_the_send():
    # an abortive close (SO_LINGER 0, as some load balancers do): RST, not FIN
    aborted = race(("CLOSE", "CLOSE"), "ConnectionResetError", "EOF",
                   "BrokenPipeError")
    refute(idle_race.claims(aborted), "send-succeeds")


def pile(name, held, served_):
    return frees.Pile(name, [(i / 10, n) for i, n in enumerate(held)], served_)


@counter_case("idle-peak", "idle-end-held")
def test_an_idle_timeout_longer_than_the_demo_frees_nothing():
    # nginx's keepalive_timeout of 75 s: in a 1.3 s run it never fires
    held = [0, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6]
    r = [pile("no idle timeout", held, 6), pile("idle timeout 75 s", held, 6)]
    refute(frees.claims(r), "idle-peak", "idle-end-held")


@counter_case("killed-sends-fin", "killed-unread-sends-rst", "crash-seen-at-once")
def test_a_crashed_host_leaves_the_server_waiting():
    # a power cut instead of a kill: no kernel is left to send FIN or RST
    gone = {"killed, nothing unread": ("still waiting", 5.0),
            "killed holding unread data": ("still waiting", 5.0)}
    refute(crash.claims(gone), "killed-sends-fin", "killed-unread-sends-rst",
           "crash-seen-at-once")


@counter_case("killed-unread-sends-rst")
def test_a_kernel_that_closes_gracefully_despite_unread_data():
    # a stack that ignores RFC 2525 §2.17 and sends a FIN with data unread
    graceful = {"killed, nothing unread": ("EOF (FIN)", 0.001),
                "killed holding unread data": ("EOF (FIN)", 0.001)}
    refute(crash.claims(graceful), "killed-unread-sends-rst")


def test_syn_retries_before_linear_timeouts_is_not_checked_here(monkeypatch, capsys):
    monkeypatch.setattr(syn_retries.netns, "has_sysctl", lambda name: False)
    syn_retries.main()
    out = capsys.readouterr().out
    assert "not checked here" in out and "Linux 6.5" in out and "held:" not in out


def test_connect_elsewhere_is_not_checked_here(monkeypatch, capsys):
    monkeypatch.setattr(connect.sys, "platform", "darwin")
    connect.main()
    out = capsys.readouterr().out
    assert "not checked here" in out and "needs Linux" in out and "held:" not in out


@linux_only
@pytest.mark.parametrize("name", list(DEMOS))
def test_runs_standalone(name):
    """As a reader runs it; afterwards nothing of it runs or listens."""
    proc = subprocess.Popen([sys.executable, "-m", f"snippets.timeouts.{name}"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    assert proc.returncode == 0, out + err
    assert "NOT HELD" not in out
    left = group_members(proc.pid)
    assert not left, f"processes left running: {left}"
    assert not listening(left | {proc.pid}), "a listener was left behind"
