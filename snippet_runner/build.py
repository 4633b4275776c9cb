"""One build's state: its fences and runs, its notebooks, each page's claims.

Made anew by the plugin for every build (`mkdocs serve` rebuilds included); what
must outlive a build lives in `serve.MEMORY`.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from mkdocs.exceptions import PluginError

from snippet_runner import cache, fences, serve
from snippet_runner.claims import PageClaims
from snippet_runner.config import SnippetRunnerConfig
from snippet_runner.fences import Fence
from snippet_runner.notebooks import UNCHECKED, NotebookRun, run_notebook
from snippet_runner.runner import SnippetFailure, SnippetRun
from snippet_runner.schedule import Job, Schedule
from snippet_runner.site_pages import Record, verdict_counts

log = logging.getLogger("mkdocs.plugins.snippets-runner")
# A claim *not checked here* is worth a warning line, but must not fail a --strict
# build (a busy machine is not a broken claim): this logger sits outside "mkdocs",
# whose warnings --strict counts.
unchecked_log = logging.getLogger("snippets-runner.unchecked")
if not unchecked_log.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("WARNING -  %(message)s"))
    unchecked_log.addHandler(_handler)
    unchecked_log.propagate = False


class Build:
    def __init__(self, config: SnippetRunnerConfig, root: Path, docs: Path) -> None:
        self.config, self.root, self.docs = config, root, docs
        self.snippets = (root / config.snippets_dir).resolve()
        self.cache_dir = root / config.cache_dir
        self.notebook_cache = root / config.notebook_cache_dir
        self.fences: dict[str, list[Fence]] = {}  # page src path -> its fences
        self.schedule: Schedule | None = None
        self.runs: dict[str, SnippetRun] = {}
        self.notebooks: dict[str, NotebookRun] = {}
        self.pages: dict[str, PageClaims] = {}
        self.records: list[Record] = []
        self.folded: dict[str, str] = {}  # key -> Markdown of a folded listing
        self.folded_used: set[str] = set()
        self.finished = False

    def runs_page(self, src: str) -> bool:
        """Whether this build runs the page's snippets (`only` may narrow it)."""
        if not self.config.execute:
            return False
        only = self.config.only
        return not only or any(src == name or Path(src).stem == name
                               or Path(src).stem.removesuffix("-notebook") == name
                               for name in only)

    def in_shard(self, path: str) -> bool:
        """Whether this build's shard runs this snippet or notebook (always, when
        the build is not sharded): a stable hash of its path, so every machine
        agrees which shard owns what."""
        if not self.config.shard:
            return True
        try:
            index, count = (int(n) for n in self.config.shard.split("/"))
        except ValueError:
            raise PluginError(f"shard must be i/N, got {self.config.shard!r}") from None
        if not 1 <= index <= count:
            raise PluginError(f"shard {index}/{count}: i must be between 1 and N")
        digest = hashlib.sha256(path.encode()).digest()
        return int.from_bytes(digest[:8], "big") % count == index - 1

    def run_for(self, src: str, path: str) -> SnippetRun | None:
        """The run a page shows for one of its fences, or None (not executed; in a
        shard's build, a snippet another shard runs)."""
        if not self.runs_page(src) or self.schedule is None \
                or path not in self.schedule.jobs and path not in self.schedule.done:
            return None
        return self.run_of(path)

    def cites_live(self, src: str) -> bool:
        """Whether the page's citations are checked against its runs (a shard's
        build has only some runs: its pages are not published)."""
        return self.runs_page(src) and not self.config.shard

    def page_path(self, src: str) -> str:
        return f"{self.docs.relative_to(self.root)}/{src}"

    def collect(self, pages: list) -> None:
        """Parse every page's fences (a bad one fails here, before anything runs)."""
        for file in pages:
            text = Path(file.abs_src_path).read_text(encoding="utf-8")
            try:
                self.fences[file.src_uri] = fences.fences_of(
                    text, self.page_path(file.src_uri), self.root, self.snippets,
                    self.config.timeout)
            except fences.FenceError as error:
                raise PluginError(str(error)) from None
            if serve.MEMORY.dirty:
                serve.MEMORY.rerender_if_changed(file, tuple(
                    cache.cache_key(self.root, f.path) for f in
                    self.fences[file.src_uri]) + (str(self.config.execute),))

    def start(self, notebooks: list) -> None:
        """What times things runs first, with nothing beside it: the snippets, then
        the notebooks; the rest starts side by side while pages render."""
        if not self.config.execute:
            return
        jobs = [Job(f.path, f.timeout, f.page, src)
                for src, found in self.fences.items() if self.runs_page(src)
                for f in found if self.in_shard(f.path)]
        self.schedule = Schedule(
            self.root, jobs, self.cache_dir, fresh=self.config.fresh,
            memory=serve.MEMORY.runs if serve.MEMORY.serve else None,
            progress=self._progress)
        failed = self.schedule.run_alone()
        if failed:
            self.fail(*failed)
        for file in notebooks:
            if self.runs_page(file.src_uri) and self.in_shard(file.src_uri):
                self._run_notebook(file)
        self.schedule.start_side_by_side()

    def fail(self, job: Job, failure: SnippetFailure):
        self.cancel()
        raise PluginError(f"snippet failed on page {job.page}: {failure}")

    def cancel(self) -> None:
        if self.schedule is not None:
            self.schedule.cancel()

    @staticmethod
    def _progress(job: Job, outcome) -> None:
        if isinstance(outcome, SnippetRun):
            log.info("snippet %s: ran in %.1f s", job.path, outcome.seconds)
            if outcome.stderr.strip():
                log.info("stderr of %s:\n%s", job.path, outcome.stderr.rstrip())

    def run_of(self, rel: str) -> SnippetRun:
        """A snippet's run (waiting for it); a failed one fails the build."""
        if rel not in self.runs:
            outcome = self.schedule.outcome(rel)
            if isinstance(outcome, SnippetFailure):
                self.fail(self.schedule.jobs[rel], outcome)
            for claim in outcome.unchecked:
                unchecked_log.warning("not checked here: %s: %s (%s)", rel,
                                      claim.statement, claim.reason)
            if outcome.cached:
                log.info("snippet %s: cached result reused", rel)
            self.runs[rel] = outcome
        return self.runs[rel]

    def page_claims(self, src: str) -> PageClaims:
        return self.pages.setdefault(src, PageClaims(self.page_path(src)))

    def _run_notebook(self, file) -> None:
        rel = Path(file.abs_src_path).relative_to(self.root).as_posix()
        try:
            result = run_notebook(self.root, Path(file.abs_src_path),
                                  self.notebook_cache, self.config.notebook_timeout,
                                  self.config.fresh)
        except SnippetFailure as error:
            raise PluginError(str(error)) from None
        log.info("notebook %s: %s", rel, "cached result reused" if result.cached
                 else "executed")
        for claim in result.unchecked:
            unchecked_log.warning("not checked here: %s: %s (%s)", rel,
                                  claim.statement, claim.reason)
        self.notebooks[file.src_uri] = result
        self.page_claims(file.src_uri).add(result.claims, rel, result.measured_at)
        self.records.append(Record("notebook", file.src_uri, file.src_uri,
                                   result.seconds, result.cached, result.measured_at,
                                   verdict_counts(result.claims)))

    def finish(self) -> None:
        """Wait for every run (once per build); the build report's records."""
        if self.schedule is None or self.finished:
            return
        self.finished = True
        outcomes = self.schedule.finish()
        for job, _ in outcomes:  # also those of pages a dirty rebuild skips
            self.run_of(job.path)
        for phase, (count, wall, serial) in self.schedule.stats().items():
            if count:
                log.info("snippets run %s: %d in %.1f s of wall time (their run "
                         "times add up to %.1f s)", phase, count, wall, serial)
        notebooks = self.records
        self.records = [Record("snippet", job.path, job.src_uri, run.seconds,
                               run.cached, run.measured_at, verdict_counts(run.claims))
                        for job, run in ((j, self.runs[j.path]) for j, _ in outcomes)]
        self.records += notebooks
        if not self.config.only and not self.config.shard:
            self._prune()

    def _prune(self) -> None:
        """Remove the cached runs no current source can reach (this environment's;
        another's once unused for a while). Every run of the build is stored by
        now, and the keys come from the sources as they are."""
        env = cache.environment_id()
        cache.prune(self.cache_dir / env, self.schedule.all_keys())
        cache.prune_environments(self.cache_dir)
        keep = {r.path.parent.name for r in self.notebooks.values()} | {UNCHECKED}
        cache.prune(self.notebook_cache / env, keep)
        cache.prune_environments(self.notebook_cache)

    def cache_usage(self) -> str:
        entries, size = cache.usage(self.cache_dir)
        books, book_size = cache.usage(self.notebook_cache)
        return (f"The result cache holds {entries} snippet runs and {books} notebook "
                f"runs ({(size + book_size) / 1e6:.1f} MB) after pruning what no "
                "current source can reach.")
