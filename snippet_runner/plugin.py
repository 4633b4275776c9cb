"""MkDocs plugin: turn ```snippet fences into source + real output + verified claims.

A fence names a snippet file (from the project root) and options::

    ```snippet
    path: snippets/threads/io_bound.py
    timeout: 20
    highlight: def thread_pool ... list(pool.map
    ```

Before any page is rendered, the plugin collects every fence of every page and runs
each snippet (and each notebook) once, in its own process, bounded, cached
(`runner`, `schedule`): what times things first, alone; the rest side by side while
pages render, each page waiting for its own runs. Each page shows the lines that matter with the whole
file one click away, the command, the output, the figures, a "Verified at build"
table, related episodes (from the one topic list in mkdocs.yml), and when its
results were measured. A page holding `<!-- snippets-runner:build-report -->` gets
the build report: every run, its page, its time, cached or not, its verdicts.

This module is the MkDocs front-end; `runner`, `schedule`, `render` and `notebooks`
import nothing from MkDocs.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import platform
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import jinja2.bccache
from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files

from snippet_runner import bench, render
from snippet_runner.notebooks import run_notebook
from snippet_runner.runner import SnippetFailure, SnippetRun, cache_key
from snippet_runner.schedule import Job, Schedule

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

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
OPTIONS = {"path", "timeout", "hl_lines", "highlight", "source"}
REPORT_MARKER = "<!-- snippets-runner:build-report -->"
# `mkdocs serve --dirty` re-renders only pages whose file changed. A page also shows
# its snippets' source and output, so it is re-rendered when any of them changed:
# what each page showed last is kept here, across the rebuilds of one serve process.
_SHOWN: dict[str, tuple[str, ...]] = {}
_SERVE = {"dirty": False, "serve": False}
_SESSION_RUNS: dict[str, SnippetRun] = {}  # serve only: runs by cache key
_FOLDED_HTML: dict[str, str] = {}  # a folded whole-file listing's HTML, by its key


class _CompiledTemplates(jinja2.BytecodeCache):
    """MkDocs makes a new Jinja environment for every build, which compiles every theme
    template again (about a third of a `serve --dirty` rebuild): keep the compiled
    code for the life of the process. Jinja checks each entry against its source."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _CompiledTemplates()
POLL_SECONDS = 0.05  # serve's file watcher polls every 0.5 s unless told otherwise


class _DirtyIsDeliberate(logging.Filter):
    """`serve --dirty` is how live reload stays fast, and this plugin re-renders the
    pages a snippet change affects: MkDocs' warning about it must not fail --strict."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "A 'dirty' build is being performed" in record.getMessage():
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True
# re-exported for tests and older imports
highlighted_lines = render.highlighted_lines


class SnippetRunnerConfig(Config):
    snippets_dir = config_options.Type(str, default="snippets")
    cache_dir = config_options.Type(str, default=".cache/snippets")
    timeout = config_options.Type((int, float), default=30)
    notebook_timeout = config_options.Type((int, float), default=60)
    topics = config_options.Type(dict, default={})  # page src path -> [topics]


def replace_snippet_fences(lines: list[str], replace) -> list[str]:
    """Swap each top-level ```snippet fence for replace(indent, body) lines.

    Fences inside other fences (a page showing the syntax) are left alone.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        opened = FENCE_OPEN.match(lines[i])
        if not opened:
            out.append(lines[i])
            i += 1
            continue
        indent, fence = opened["indent"], opened["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        block = lines[i:end + 1]
        if opened["info"].strip() == "snippet" and fence[0] == "`":
            body = "\n".join(line[len(indent):] for line in lines[i + 1:end])
            out += replace(indent, body)
        else:
            out += block
        i = end + 1
    return out


STYLE = re.compile(r"<style[^>]*>(?P<css>.*?)</style>", re.DOTALL)


def externalize_styles(html_text: str, page_url: str, site_dir: Path,
                       min_size: int = 2000) -> str:
    """Move big inline <style> blocks (mkdocs-jupyter inlines ~590 KB of JupyterLab
    CSS into every notebook page) into one shared, cacheable stylesheet."""
    up = "../" * page_url.rstrip("/").count("/") + ("../" if page_url.endswith("/")
                                                     else "")

    def move(match: re.Match) -> str:
        css = match["css"]
        if len(css) < min_size:
            return match.group(0)
        name = f"assets/notebook/{hashlib.sha256(css.encode()).hexdigest()[:16]}.css"
        target = site_dir / name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(css, encoding="utf-8")
        return f'<link rel="stylesheet" href="{up}{name}">'

    return STYLE.sub(move, html_text)


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() not in {"0", "no", "off", ""}


def environment_stamp() -> str:
    gil = getattr(sys, "_is_gil_enabled", None)
    build = "free-threaded, GIL disabled" if gil and not gil() else "GIL enabled"
    return (f"{platform.python_implementation()} {platform.python_version()} "
            f"({build}) on {platform.system()} {platform.release()} "
            f"{platform.machine()}, {os.cpu_count()} cores")


def _verdict(claim: dict) -> str:
    held = claim.get("held")
    if held is None:
        why = html.escape(claim.get("reason", ""), quote=True)
        return (f'<span class="claim-unchecked" title="{why}">not checked here</span>'
                f"<br><small>{_cell(claim.get('reason', ''))}</small>")
    return ('<span class="claim-held">held</span>' if held
            else '<span class="claim-broken">not held</span>')


def _cell(text: str) -> str:
    return html.escape(text).replace("|", "&#124;").replace("\n", " ")


def parse_options(body: str, page_path: str, root: Path, snippets: Path) -> dict:
    options = {}
    for line in body.strip().splitlines():
        key, sep, value = line.strip().partition(":")
        if not sep or key.strip() not in OPTIONS:
            raise PluginError(f"{page_path}: bad snippet option line {line!r}; "
                              f"use 'key: value' with keys {sorted(OPTIONS)}")
        options[key.strip()] = value.strip()
    if "path" not in options:
        raise PluginError(f"{page_path}: a snippet fence needs 'path: <file>'")
    file = (root / options["path"]).resolve()
    if not file.is_relative_to(snippets) or file.suffix != ".py":
        raise PluginError(f"{page_path}: a snippet path names a .py file under "
                          f"{snippets.name}/, got {options['path']!r}")
    if not file.is_file():
        raise PluginError(f"{page_path}: snippet file not found: {options['path']}")
    return options


@dataclass
class Record:
    """One run as the build report shows it."""

    kind: str  # "snippet" or "notebook"
    path: str
    page: str  # docs-relative src path of the page
    seconds: float
    cached: bool
    measured_at: float
    verdicts: dict[str, int] = field(default_factory=dict)


def _verdict_counts(claims: list[dict]) -> dict[str, int]:
    counts = {"held": 0, "not held": 0, "not checked here": 0}
    for c in claims:
        counts[{True: "held", False: "not held", None: "not checked here"}[
            c.get("held")]] += 1
    return counts


class SnippetRunnerPlugin(BasePlugin[SnippetRunnerConfig]):
    def on_startup(self, *, command, dirty):
        _SERVE["serve"] = command == "serve"
        _SERVE["dirty"] = command == "serve" and dirty
        if _SERVE["dirty"]:
            logging.getLogger("mkdocs.commands.build").addFilter(_DirtyIsDeliberate())

    def on_env(self, env, config, files):
        env.bytecode_cache = _TEMPLATES
        return env

    def on_serve(self, server, config, builder):
        """Watch for edits every POLL_SECONDS instead of every 0.5 s: the wait for
        the watcher is most of a prose edit's reload once only that page rebuilds.
        MkDocs has no option for it, so the paths it watches so far are watched
        again by a faster observer (the watch list in mkdocs.yml comes after)."""
        from watchdog.observers.polling import PollingObserver

        watched = [p for p in (config.docs_dir, config.config_file_path,
                               *config.theme.dirs) if p]
        moved = []
        for path in watched:
            try:
                server.unwatch(path)
                moved.append(path)
            except KeyError:  # theme dirs are watched only with --watch-theme
                pass
        server.observer = PollingObserver(timeout=POLL_SECONDS)
        for path in moved:
            server.watch(path)
        return server

    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        self.snippets = (self.root / self.config.snippets_dir).resolve()
        self.cache_dir = self.root / self.config.cache_dir
        self.execute = _env_flag("SNIPPETS_EXECUTE", True)
        self.fresh = _env_flag("SNIPPETS_FRESH", False)
        self.folded: dict[str, str] = {}  # placeholder key -> the folded Markdown
        if str(self.snippets) not in config.watch:
            config.watch.append(str(self.snippets))
        return config

    # -- before any page: run everything once ------------------------------------

    def on_files(self, files, config):
        """The order pages render in (not their order in the nav): notebooks first,
        executed before any page renders, so converting them overlaps the side-by-side
        snippets; a page showing the build report last, as it waits for every run."""
        # (a notebook is not a documentation page yet: mkdocs-jupyter makes it one)
        notebooks = [f for f in files if f.src_uri.endswith(".ipynb")]
        report = [f for f in files.documentation_pages() if f.src_uri.endswith(".md")
                  and REPORT_MARKER in Path(f.abs_src_path).read_text(encoding="utf-8")]
        rest = [f for f in files if f not in notebooks and f not in report]
        return Files(notebooks + rest + report)

    def on_nav(self, nav, config, files):
        self.titles = {p.file.src_uri: p.title for p in nav.pages}
        self.runs: dict[str, SnippetRun] = {}
        self.notebooks: dict[str, Path] = {}
        self.notebook_records: list[Record] = []
        self.records: list[Record] = []
        self.ran: list[str] = []
        self.schedule: Schedule | None = None
        self.finished = False
        jobs: list[Job] = []
        for file in files.documentation_pages():
            page_path = self._page_path(file.src_uri, config)
            if file.src_uri.endswith(".md"):
                found = self._collect(Path(file.abs_src_path), file.src_uri, page_path)
                jobs += found
                if _SERVE["dirty"]:
                    self._rerender_if_changed(file, found)
        if self.execute:
            # what times things runs first, with nothing beside it: the snippets,
            # then the notebooks; the rest runs while the pages are rendered
            self.schedule = Schedule(self.root, jobs, self.cache_dir, fresh=self.fresh,
                                     memory=_SESSION_RUNS if _SERVE["serve"] else None,
                                     progress=self._progress)
            failed = self.schedule.run_alone()
            if failed:
                self._fail(*failed)
            for file in files.documentation_pages():
                if file.src_uri.endswith(".ipynb"):
                    self._run_notebook(file)
            self.schedule.start_side_by_side()
        return nav

    def _fail(self, job: Job, failure: SnippetFailure):
        self.schedule.cancel()
        raise PluginError(f"snippet failed on page {job.page}: {failure}")

    def _run_of(self, rel: str) -> SnippetRun:
        """A snippet's run (waiting for it); a failed one fails the build."""
        if rel not in self.runs:
            outcome = self.schedule.outcome(rel)
            if isinstance(outcome, SnippetFailure):
                self._fail(self.schedule.jobs[rel], outcome)
            for claim in outcome.unchecked:
                unchecked_log.warning("not checked here: %s: %s (%s)", rel,
                                      claim["statement"], claim.get("reason", ""))
            if outcome.cached:
                log.info("snippet %s: cached result reused", rel)
            self.runs[rel] = outcome
        return self.runs[rel]

    def _finish(self) -> None:
        """Wait for every run (once per build); the build report's records."""
        if self.schedule is None or self.finished:
            return
        self.finished = True
        outcomes = self.schedule.finish()
        for job, _ in outcomes:  # also those of pages a dirty rebuild skips
            self._run_of(job.path)
        for phase, (count, wall, serial) in self.schedule.stats().items():
            if count:
                log.info("snippets run %s: %d in %.1f s of wall time (their run "
                         "times add up to %.1f s)", phase, count, wall, serial)
        for job, _ in outcomes:
            run = self.runs[job.path]
            self.records.append(Record("snippet", job.path, job.src_uri, run.seconds,
                                       run.cached, run.measured_at,
                                       _verdict_counts(run.claims)))
            if not run.cached:
                self.ran.append(job.path)
        self.records += self.notebook_records

    def on_build_error(self, error):
        if getattr(self, "schedule", None) is not None:
            self.schedule.cancel()

    def _rerender_if_changed(self, file, jobs: list[Job]) -> None:
        # the page's own mtime too: an edit saved while a build was rendering the
        # old text leaves the output newer than the source, and MkDocs' own check
        # (output older than source) would then skip the page
        mtime = Path(file.abs_src_path).stat().st_mtime_ns
        shown = tuple(cache_key(self.root, j.path) for j in jobs) + (
            str(self.execute), str(mtime))
        if _SHOWN.get(file.src_uri) != shown:
            file.is_modified = lambda: True  # this File object lives for one build
        _SHOWN[file.src_uri] = shown

    def _page_path(self, src_uri: str, config) -> str:
        docs = Path(config.docs_dir).resolve()
        return f"{docs.relative_to(self.root)}/{src_uri}"

    def _collect(self, path: Path, src_uri: str, page_path: str) -> list[Job]:
        jobs: list[Job] = []

        def collect(indent: str, body: str) -> list[str]:
            options = parse_options(body, page_path, self.root, self.snippets)
            timeout = float(options.get("timeout", self.config.timeout))
            jobs.append(Job(options["path"], timeout, page_path, src_uri))
            return []

        replace_snippet_fences(path.read_text(encoding="utf-8").splitlines(), collect)
        return jobs

    @staticmethod
    def _progress(job: Job, outcome) -> None:
        if isinstance(outcome, SnippetRun):
            log.info("snippet %s: ran in %.1f s", job.path, outcome.seconds)
            if outcome.stderr.strip():
                log.info("stderr of %s:\n%s", job.path, outcome.stderr.rstrip())

    def _run_notebook(self, file) -> None:
        try:
            result = run_notebook(self.root, Path(file.abs_src_path),
                                  self.cache_dir.parent / "notebooks",
                                  timeout=self.config.notebook_timeout,
                                  fresh=self.fresh)
        except SnippetFailure as error:
            raise PluginError(str(error)) from None
        self.notebooks[file.src_uri] = result.path
        self.notebook_records.append(Record("notebook", file.src_uri, file.src_uri,
                                   result.seconds, result.cached, result.measured_at,
                                   result.verdicts))

    # -- each page -----------------------------------------------------------------

    def on_pre_page(self, page, config, files):
        # Runs before mkdocs-jupyter's own hook, which then renders the executed copy.
        executed = getattr(self, "notebooks", {}).get(page.file.src_uri)
        if executed:
            page.file.abs_src_path = str(executed)
        return page

    def on_page_markdown(self, markdown, page, config, files):
        claims: list[dict] = []
        runs: list[SnippetRun] = []
        src_uri = page.file.src_uri
        page_path = self._page_path(src_uri, config)
        self._depth = src_uri.count("/")

        def replace(indent: str, body: str) -> list[str]:
            options = parse_options(body, page_path, self.root, self.snippets)
            rendered = self._render(options, claims, runs, page_path)
            return [indent + line if line else line for line in rendered.splitlines()]

        markdown = "\n".join(replace_snippet_fences(markdown.splitlines(), replace))
        topics = self.config.topics.get(src_uri)
        if topics:
            page.meta["tags"] = list(topics)
        if claims:
            markdown += self._verified_table(claims, runs)
        markdown += self._related(src_uri)
        return markdown  # a REPORT_MARKER stays: on_page_context fills it

    @event_priority(100)  # before the search plugin indexes the page
    def on_page_context(self, context, page, config, nav):
        """The build report goes in as late as possible: the page comes last, so
        every other page is rendered while the side-by-side snippets still run."""
        if page.content and REPORT_MARKER in page.content:
            import markdown
            from mkdocs.structure.toc import get_toc

            md = markdown.Markdown(extensions=config.markdown_extensions,
                                   extension_configs=config.mdx_configs)
            html_report = md.convert(self._build_report())
            page.content = page.content.replace(REPORT_MARKER, html_report)
            # its headings join the page's contents (and search's sections)
            added = get_toc(getattr(md, "toc_tokens", [])).items
            top = page.toc.items
            if len(top) == 1 and top[0].level == 1:  # under the page's one title
                top = top[0].children
            top.extend(added)
        return context

    def _render(self, options: dict, claims: list[dict], runs: list[SnippetRun],
                page: str) -> str:
        rel = options["path"]
        source = (self.root / rel).read_text(encoding="utf-8").rstrip("\n")
        try:
            marked = render.highlighted_lines(source, options, f"{page}: {rel}")
        except render.ListingError as error:
            raise PluginError(str(error)) from None
        parts: list[str] = []
        if options.get("source") != "hide":
            shown, folded = render.listing(rel, source, marked)
            parts += [*shown, ""]
            if folded:
                self.folded[render.folded_key(folded)] = folded
        if not self.execute:
            parts.append('!!! note "Not executed"\n    This build ran with '
                         "`SNIPPETS_EXECUTE=0`, so no output is shown.")
            return "\n".join(parts) + "\n"
        run = self._run_of(rel)
        runs.append(run)
        parts += [render.command_block(run.command), "",
                  render.output_block(run.stdout, "output of that run, measured "
                                      + render.when(run.measured_at)), ""]
        for name, svg in run.figures.items():
            flat = " ".join(svg.split())
            parts += ["", f'<figure class="snippet-figure" id="figure-{name}">{flat}'
                          "</figure>"]
        known = {(c["source"], c["statement"]) for c in claims}
        claims += [dict(c, source=rel) for c in run.claims
                   if (rel, c["statement"]) not in known]
        return "\n".join(parts) + "\n"

    def _verified_table(self, claims: list[dict], runs: list[SnippetRun]) -> str:
        rows = "\n".join(
            f"| {_cell(c['statement'])} | {_cell(c['evidence'])} | "
            f"{_verdict(c)} | "
            f"`{_cell(c['source'])}` |" for c in claims)
        times = sorted(r.measured_at for r in runs)
        cached = sum(r.cached for r in runs)
        span = render.when(times[0]) if times[0] == times[-1] or \
            render.when(times[0]) == render.when(times[-1]) else \
            f"between {render.when(times[0])} and {render.when(times[-1])}"
        reuse = (f"; {cached} of {len(runs)} snippet runs were reused from the cache "
                 "of an earlier build" if cached else
                 "; every snippet ran in this build")
        return (
            "\n\n## Verified at build\n\n"
            "Every claim below was checked by the snippets above when this page's "
            "results were measured; a claim that fails stops the build, and one that "
            "could not be measured on the build machine says *not checked here* and "
            "why.\n\n"
            "| Claim | Measured | Result | Snippet |\n|---|---|---|---|\n"
            f"{rows}\n\n<p class=\"environment-stamp\">Measured {span}{reuse}, with "
            f"{html.escape(environment_stamp())}. See the "
            f"[build report]({self._link_from('build-report.md')}).</p>\n")

    def _link_from(self, target: str) -> str:
        return f"{'../' * self._depth}{target}"

    def _related(self, src_uri: str) -> str:
        mine = set(self.config.topics.get(src_uri, []))
        if not mine:
            return ""
        order = list(self.titles)
        scored = []
        for other, topics in self.config.topics.items():
            shared = mine & set(topics)
            if other != src_uri and shared and other in self.titles:
                scored.append((-len(shared), order.index(other), other, shared))
        if not scored:
            return ""
        lines = [f"- [{self.titles[o]}]({self._link_from(o)}): "
                 f"{', '.join(sorted(s))}" for _, _, o, s in sorted(scored)]
        return ("\n\n## Related episodes\n\nOther pages on the same topics "
                f"(all topics: [Topics]({self._link_from('topics.md')})):\n\n"
                + "\n".join(lines) + "\n")

    def _build_report(self) -> str:
        if not self.execute:
            return "*This build ran with `SNIPPETS_EXECUTE=0`: nothing was run.*"
        self._finish()
        rows = []
        for r in self.records:
            title = self.titles.get(r.page) or r.page
            state = "cached" if r.cached else "**ran now**"
            verdicts = ", ".join(f"{n} {name}" for name, n in r.verdicts.items() if n)
            rows.append(
                f"| `{r.path.removeprefix('snippets/')}` | "
                f"[{_cell(title)}]({self._link_from(r.page)}) | {r.seconds:.1f} s | "
                f"{state} | {render.when(r.measured_at)} | {verdicts or '-'} |")
        ran = [r for r in self.records if not r.cached]
        total = sum(r.seconds for r in self.records)
        return (
            f"This build ran {len(ran)} of {len(self.records)} snippets and "
            f"notebooks and reused the cached results of the others. Their run times "
            f"add up to {total:.1f} s (for a cached one, the time of the run that "
            f"made the cached result). Built with {html.escape(environment_stamp())}."
            "\n\n| Program | Page | Run time | This build | Measured | Claims |\n"
            "|---|---|---:|---|---|---|\n" + "\n".join(rows) + "\n"
            + self._bench_section())

    def _bench_section(self) -> str:
        """The figures of the last `make bench` on this machine, if there is one."""
        path = self.root / ".cache" / "bench.json"
        if not path.is_file():
            return ("\n## Build speed\n\nNo `make bench` has been run on this "
                    "machine yet, so there are no build-speed figures to show.\n")
        result = json.loads(path.read_text())
        rows = "\n".join(f"| {name} | {seconds:.2f} s | {ratio:.2f}x |"
                         for name, seconds, ratio in bench.summary(result))
        phase = result.get("parallel phase", {})
        walls, sums = phase.get("wall", []), phase.get("serial sum", [])
        parallel = (f" In the cold build, {phase['snippets']} snippets ran side by "
                    f"side in {statistics.median(walls):.1f} s of wall time; run one "
                    f"after another they took {statistics.median(sums):.1f} s."
                    if walls and sums else "")
        return ("\n## Build speed\n\nMeasured by `make bench` "
                f"{render.when(result.get('measured_at', 0))} on "
                f"{html.escape(result.get('machine', ''))}: medians of several runs, "
                "and each as a multiple of the build with execution off. A reload "
                "is timed from writing the edit until `mkdocs serve` serves the "
                f"page with it.{parallel}\n\n| What | Median | vs execution off |\n"
                f"|---|---:|---:|\n{rows}\n")

    def on_post_page(self, output, page, config):
        if page.file.src_uri.endswith(".ipynb"):
            output = externalize_styles(output, page.url, Path(config.site_dir))
        return render.FOLDED.sub(lambda m: self._folded_html(m["key"], config), output)

    def _folded_html(self, key: str, config) -> str:
        """The folded whole file as HTML: rendered with the site's own Markdown
        settings, kept per serve process and on disk (keyed by the Markdown text,
        the settings and the versions of the renderers)."""
        done = _FOLDED_HTML.get(key)
        if done is not None:
            return done
        stamp = hashlib.sha256(repr((key, self._markdown_stamp(config))).encode())
        path = self.cache_dir.parent / "folded" / f"{stamp.hexdigest()[:24]}.html"
        if path.is_file():
            done = path.read_text(encoding="utf-8")
        else:
            import markdown

            done = markdown.Markdown(extensions=config.markdown_extensions,
                                     extension_configs=config.mdx_configs).convert(
                                         self.folded[key])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(done, encoding="utf-8")
        _FOLDED_HTML[key] = done
        return done

    @staticmethod
    def _markdown_stamp(config) -> str:
        from importlib.metadata import version

        def stable(value):  # functions (markdown-exec's fences) by name, not address
            if isinstance(value, dict):
                return {k: stable(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [stable(v) for v in value]
            if callable(value):
                return f"{getattr(value, '__module__', '')}." \
                       f"{getattr(value, '__qualname__', type(value).__name__)}"
            return value

        renderers = [version(p) for p in ("markdown", "pymdown-extensions", "pygments")]
        return repr(stable([config.markdown_extensions, config.mdx_configs, renderers]))

    def on_post_build(self, config):
        self._finish()
        log.info("snippets executed in this build: %d", len(getattr(self, "ran", [])))
