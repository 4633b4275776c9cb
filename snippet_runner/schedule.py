"""Run every snippet of a build: in parallel where it is safe, alone where it is not.

A snippet that times things (it imports `snippets.measure`, directly or through a
module it imports) runs alone: nothing else of the build runs beside it, so one
demo's work never disturbs another's clock. They run first. Every other snippet
(counts, errnos, bytes) then runs side by side with the others, up to the number of
cores, while the site's pages are rendered: a page waits only for its own snippets.
Results come back in page and fence order, whatever order they ran in.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from snippet_runner.cache import cache_key, local_imports
from snippet_runner.runner import SnippetFailure, SnippetRun, cached_run, run_snippet

TIMING_MODULE = ("snippets", "measure.py")


@dataclass(frozen=True)
class Job:
    path: str  # the snippet, from the project root
    timeout: float
    page: str  # the page's path from the project root, for messages
    src_uri: str  # the page's path inside docs/


def times_things(root: Path, rel_path: str) -> bool:
    """True if the snippet uses the shared timing helpers, so must run alone."""
    return any(p.parent.name == TIMING_MODULE[0] and p.name == TIMING_MODULE[1]
               for p in local_imports(root, root / rel_path))


def _attempt(root: Path, job: Job, cache_dir: Path | None, fresh: bool,
             progress=None) -> SnippetRun | SnippetFailure:
    try:
        outcome = run_snippet(root, job.path, job.timeout, cache_dir, fresh)
    except SnippetFailure as failure:
        outcome = failure
    if progress:
        progress(job, outcome)
    return outcome


class Schedule:
    """The runs of one build, in two phases.

    `run_alone()` runs the snippets that time things one after another, nothing else
    of the build running meanwhile (the caller runs its notebooks next, also alone).
    `start_side_by_side()` then starts the others on a pool of `workers` threads and
    returns at once, so the caller can render pages meanwhile; `outcome(path)` waits
    for one run, `finish()` for all of them. Cached results are used where the
    snippet, its imports and the environment are unchanged. `memory` (kept by
    `mkdocs serve` across rebuilds) also reuses runs the disk cache refuses, those
    with a claim not checked here, while nothing they depend on changes: an edit to
    a page must not re-run a demo that was merely excused. `progress(job, outcome)`
    is called as each run ends (from a worker thread, for the side-by-side ones).
    """

    def __init__(self, root: Path, jobs: list[Job], cache_dir: Path | None,
                 fresh: bool = False, workers: int | None = None,
                 memory: dict[str, SnippetRun] | None = None, progress=None) -> None:
        self.root, self.cache_dir, self.fresh = root, cache_dir, fresh
        self.memory, self.progress = memory, progress
        self.workers = workers or os.cpu_count() or 1
        self.jobs: dict[str, Job] = {}  # each snippet once, at its first fence
        for job in jobs:
            self.jobs.setdefault(job.path, job)
        self.keys = {rel: cache_key(root, rel) for rel in self.jobs} \
            if memory is not None else {}
        self.done: dict[str, SnippetRun | SnippetFailure] = {}
        pending = []
        for rel, job in self.jobs.items():
            hit = memory.get(self.keys[rel]) if memory is not None else None
            hit = hit or (None if fresh else cached_run(root, rel, cache_dir))
            if hit:
                hit.cached = True
                self.done[rel] = hit
            else:
                pending.append(job)
        self.alone = [j for j in pending if times_things(root, j.path)]
        self.side_by_side = [j for j in pending if j not in self.alone]
        self.futures: dict[str, Future] = {}
        self.pool: ThreadPoolExecutor | None = None
        self.walls = {"alone": 0.0, "side by side": 0.0}

    def _run(self, job: Job) -> SnippetRun | SnippetFailure:
        outcome = _attempt(self.root, job, self.cache_dir, self.fresh, self.progress)
        self.done[job.path] = outcome
        if self.memory is not None and isinstance(outcome, SnippetRun):
            self.memory[self.keys[job.path]] = outcome
        return outcome

    def run_alone(self) -> tuple[Job, SnippetFailure] | None:
        """Run the timing snippets one at a time; stop at, and return, a failure."""
        start = time.perf_counter()
        try:
            for job in self.alone:
                outcome = self._run(job)
                if isinstance(outcome, SnippetFailure):
                    return job, outcome
            return None
        finally:
            self.walls["alone"] = time.perf_counter() - start

    def start_side_by_side(self) -> None:
        if not self.side_by_side:
            return
        start = time.perf_counter()

        def run(job: Job) -> SnippetRun | SnippetFailure:
            outcome = self._run(job)
            self.walls["side by side"] = time.perf_counter() - start
            return outcome
        self.pool = ThreadPoolExecutor(self.workers)
        self.futures = {j.path: self.pool.submit(run, j) for j in self.side_by_side}

    def outcome(self, rel: str) -> SnippetRun | SnippetFailure:
        """The run of one snippet, waiting for it if it is still going."""
        if rel in self.futures:
            return self.futures[rel].result()
        return self.done[rel]

    def cancel(self) -> None:
        """Start nothing new (after a failure); runs going on finish, bounded."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)

    def finish(self) -> list[tuple[Job, SnippetRun | SnippetFailure]]:
        """Wait for every run; each snippet's outcome, in page and fence order."""
        for future in self.futures.values():
            future.exception()  # waits; a run's failure is its outcome, not raised
        if self.pool is not None:
            self.pool.shutdown()
        return [(job, self.done[rel]) for rel, job in self.jobs.items()
                if rel in self.done]

    def all_keys(self) -> set[str]:
        """The cache keys of every snippet of the build, as the sources are now."""
        return {cache_key(self.root, rel) for rel in self.jobs}

    def stats(self) -> dict[str, tuple[int, float, float]]:
        """Per phase: snippets run, the phase's wall time, the sum of their run times."""
        out = {}
        for name, group in (("side by side", self.side_by_side), ("alone", self.alone)):
            runs = [self.done[j.path] for j in group
                    if isinstance(self.done.get(j.path), SnippetRun)]
            out[name] = (len(runs), self.walls[name], sum(r.seconds for r in runs))
        return out
