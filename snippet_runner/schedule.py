"""Run every snippet of a build: in parallel where it is safe, alone where it is not.

A snippet that times things (it imports `snippets.measure`, directly or through a
module it imports) runs alone: nothing else of the build runs beside it, so one
demo's work never disturbs another's clock. Every other snippet (counts, errnos,
bytes) runs side by side with the others, up to the number of cores. Results come
back in page and fence order, whatever order they ran in.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from snippet_runner.runner import (
    SnippetFailure,
    SnippetRun,
    cache_key,
    cached_run,
    local_imports,
    run_snippet,
)

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


def run_jobs(root: Path, jobs: list[Job], cache_dir: Path | None, fresh: bool = False,
             workers: int | None = None, memory: dict[str, SnippetRun] | None = None,
             stats: dict | None = None, progress=None,
             ) -> list[tuple[Job, SnippetRun | SnippetFailure]]:
    """Each job's run (or failure), in the order of `jobs`. A snippet named by
    several fences runs once. After a failure nothing new is started.

    `progress(job, outcome)`, if given, is called as each run ends (from a worker
    thread). `stats`, if given, receives for each phase ("side by side", "alone") the number
    of snippets run, the phase's wall time and the sum of their run times.
    `memory` (kept by `mkdocs serve` across rebuilds) also reuses runs the disk
    cache refuses, those with a claim not checked here, while nothing they depend
    on changes: an edit to a page must not re-run a demo that was merely excused.
    """
    first: dict[str, Job] = {}
    for job in jobs:
        first.setdefault(job.path, job)
    done: dict[str, SnippetRun | SnippetFailure] = {}
    keys = {rel: cache_key(root, rel) for rel in first} if memory is not None else {}
    pending = []
    for rel, job in first.items():
        hit = memory.get(keys[rel]) if memory is not None else None
        hit = hit or (None if fresh else cached_run(root, rel, cache_dir))
        if hit:
            hit.cached = True
            done[rel] = hit
        else:
            pending.append(job)
    side_by_side = [j for j in pending if not times_things(root, j.path)]
    alone = [j for j in pending if times_things(root, j.path)]
    workers = workers or os.cpu_count() or 1
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        futures = {j.path: pool.submit(_attempt, root, j, cache_dir, fresh, progress)
                   for j in side_by_side}
        for rel, future in futures.items():
            done[rel] = future.result()
    middle = time.perf_counter()
    for job in alone:
        if any(isinstance(r, SnippetFailure) for r in done.values()):
            break
        done[job.path] = _attempt(root, job, cache_dir, fresh, progress)
    if stats is not None:
        for name, group, wall in (("side by side", side_by_side, middle - start),
                                  ("alone", alone, time.perf_counter() - middle)):
            runs = [done[j.path] for j in group if isinstance(done.get(j.path),
                                                              SnippetRun)]
            stats[name] = (len(runs), wall, sum(r.seconds for r in runs))
    if memory is not None:
        memory.update((keys[rel], run) for rel, run in done.items()
                      if isinstance(run, SnippetRun))
    failures = [job for job in jobs if isinstance(done.get(job.path), SnippetFailure)]
    if failures:  # report the first failure in page order, and nothing after it
        stop = jobs.index(failures[0])
        return [(j, done[j.path]) for j in jobs[:stop + 1] if j.path in done]
    return [(job, done[job.path]) for job in jobs]
