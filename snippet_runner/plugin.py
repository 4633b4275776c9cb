"""MkDocs plugin: turn ```snippet fences into source + real output + verified claims.

The hooks live here and hand the work off, one job per module:

* `config`: every option (`mkdocs.yml`, with `!ENV` for environment variables);
* `fences`: a page's ```snippet fences, parsed once into `Fence` records;
* `build`: one build's state: runs (`schedule`, `runner`, `cache`), notebooks
  (`notebooks`), each page's claims;
* `render`: how a fence looks on the page; `claims`: citations and the Verified
  table; `site_pages`: the build report, `claims.json`, related episodes;
* `serve`: what outlives a build under `mkdocs serve`.

Before any page renders, every fence of every page is collected and run once, in
its own process, bounded, cached: what times things first, alone; then the
notebooks; the rest side by side while pages render, each page waiting for its own
runs. `runner`, `schedule`, `render`, `claims` and `notebooks` import nothing from
MkDocs, so another front-end can call the same runs, cache and claims.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.utils import get_relative_url

from snippet_runner import claims as page_claims
from snippet_runner import render, serve, site_pages
from snippet_runner.build import Build, log
from snippet_runner.config import SnippetRunnerConfig
from snippet_runner.fences import parse, replace_fences
from snippet_runner.notebooks import externalize_styles

REPORT_MARKER = "<!-- snippets-runner:build-report -->"
VERIFIED = '<div class="snippets-runner-verified"></div>'
FOLDED_DIR = ".cache/folded"


class SnippetRunnerPlugin(BasePlugin[SnippetRunnerConfig]):
    def on_startup(self, *, command, dirty):
        serve.MEMORY.start(command, dirty)

    def on_env(self, env, config, files):
        env.bytecode_cache = serve.MEMORY.templates
        return env

    def on_serve(self, server, config, builder):
        return serve.faster_watcher(server, config)

    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        snippets = str((self.root / self.config.snippets_dir).resolve())
        if snippets not in config.watch:
            config.watch.append(snippets)
        return config

    def on_files(self, files, config):
        """The order pages render in (not their order in the nav): notebooks first,
        executed before any page renders, so converting them overlaps the side-by-side
        snippets; a page showing the build report last, as it waits for every run."""
        # (a notebook is not a documentation page yet: mkdocs-jupyter makes it one)
        notebooks = [f for f in files if f.src_uri.endswith(".ipynb")]
        report = [f for f in files.documentation_pages() if f.src_uri.endswith(".md")
                  and REPORT_MARKER in Path(f.abs_src_path).read_text(encoding="utf-8")]
        self.report_src = report[0].src_uri if report else None
        rest = [f for f in files if f not in notebooks and f not in report]
        return Files(notebooks + rest + report)

    def on_nav(self, nav, config, files):
        self.build = Build(self.config, self.root, Path(config.docs_dir).resolve())
        self.titles = {p.file.src_uri: p.title for p in nav.pages}
        self.urls = {f.src_uri: f.url for f in files.documentation_pages()}
        pages = files.documentation_pages()
        self.build.collect([f for f in pages if f.src_uri.endswith(".md")])
        self.build.start([f for f in pages if f.src_uri.endswith(".ipynb")])
        return nav

    def on_build_error(self, error):
        if getattr(self, "build", None) is not None:
            self.build.cancel()

    # -- each page -----------------------------------------------------------------

    def on_pre_page(self, page, config, files):
        # Runs before mkdocs-jupyter's own hook, which then renders the executed copy.
        executed = self.build.notebooks.get(page.file.src_uri)
        if executed:
            page.file.abs_src_path = str(executed.path)
        return page

    def on_page_markdown(self, markdown, page, config, files):
        src = page.file.src_uri
        build = self.build

        def replace(indent: str, body: str) -> list[str]:
            fence = parse(body, build.page_path(src), self.root, build.snippets,
                          self.config.timeout)
            text = (self.root / fence.path).read_text(encoding="utf-8").rstrip("\n")
            where = f"{fence.page}: {fence.path}"
            try:
                marked = render.highlighted_lines(text, fence.options, where)
                ranges = render.shown_ranges(text, fence.options, marked, where)
                notes = render.notes_of(text, fence.options, where)
            except render.ListingError as error:
                raise PluginError(str(error)) from None
            run = build.run_for(src, fence.path)
            if run is not None:
                try:
                    build.page_claims(src).add(run.claims, fence.path,
                                               run.measured_at)
                except page_claims.CitationError as error:
                    raise PluginError(str(error)) from None
            shown = render.snippet_block(fence.path, text, marked,
                                         fence.source == "hide", run,
                                         config.repo_url or "", ranges, notes,
                                         fence.output == "fold")
            build.folded.update(shown.folded)
            return [indent + ln if ln else ln for ln in shown.markdown.splitlines()]

        lines = markdown.splitlines()
        if build.fences.get(src) and build.runs_page(src):
            lines = render.with_legend(lines)
        markdown = "\n".join(replace_fences(lines, replace))
        if self.config.topics.get(src):
            page.meta["tags"] = list(self.config.topics[src])
        if build.pages.get(src) and build.pages[src].claims:
            markdown += f"\n\n## Verified at build\n\n{VERIFIED}\n"
        try:
            markdown += site_pages.read_next(src, page.meta, self.titles)
        except ValueError as error:
            raise PluginError(str(error)) from None
        return markdown  # a REPORT_MARKER stays: on_page_context fills it

    def on_page_content(self, html, page, config, files):
        """Citations become live values linked to their rows; the Verified table
        goes in with its links back to them."""
        src = page.file.src_uri
        claims = self.build.pages.get(src) or self.build.page_claims(src)
        try:
            live = self.build.cites_live(src)
            html = page_claims.cite(html, claims, live)
            missing = page_claims.uncited(claims) if live else []
            if missing:
                raise page_claims.CitationError(
                    f"{claims.page}: no sentence cites the finding(s) "
                    f"{', '.join(missing)}: cite each with [](claim:<id>)")
        except page_claims.CitationError as error:
            raise PluginError(str(error)) from None
        serve.MEMORY.citations[src] = {i: p.citations for i, p in claims.claims.items()}
        if not claims.claims:
            return html
        table = page_claims.verified(claims, self._stamp(src, page.url))
        if VERIFIED in html:
            return html.replace(VERIFIED, table)
        return html + f'\n<h2 id="verified-at-build">Verified at build</h2>\n{table}'

    def _stamp(self, src: str, url: str) -> str:
        times = sorted(p.measured_at for p in self.build.pages[src].claims.values())
        first, last = render.when(times[0]), render.when(times[-1])
        span = first if first == last else f"between {first} and {last}"
        runs = [r for r in self.build.runs.values() if r.path in {
            p.source for p in self.build.pages[src].claims.values()}]
        cached = sum(r.cached for r in runs)
        reuse = (f"; {cached} of {len(runs)} snippet runs were reused from the cache "
                 "of an earlier build" if cached else "")
        links = ""
        if self.report_src:
            report = get_relative_url(self.urls[self.report_src], url)
            links = (f' See the <a href="{report}">build report</a> and '
                     f'<a href="{get_relative_url("claims.json", url)}">claims.json'
                     "</a>.")
        slug = Path(src).stem
        compare = (f" Compare your own machine with this page: <code>make compare "
                   f"EPISODE={slug}</code>." if src.startswith("episodes/") else "")
        return (f"Measured {span}{reuse}, with "
                f"{site_pages.environment_stamp()}.{links}{compare}")

    @event_priority(100)  # before the search plugin indexes the page
    def on_page_context(self, context, page, config, nav):
        """The build report goes in as late as possible: the page comes last, so
        every other page is rendered while the side-by-side snippets still run."""
        if page.content and REPORT_MARKER in page.content:
            import markdown
            from mkdocs.structure.toc import get_toc

            if self.config.execute:
                self.build.finish()
                text = site_pages.build_report(
                    self.build.records, self.build.pages, self.titles, self.urls,
                    page.url, self.build.cache_usage(),
                    self.root / self.config.bench_file)
            else:
                text = "*This build ran with `SNIPPETS_EXECUTE=0`: nothing was run.*"
            md = markdown.Markdown(extensions=config.markdown_extensions,
                                   extension_configs=config.mdx_configs)
            page.content = page.content.replace(REPORT_MARKER, md.convert(text))
            # its headings join the page's contents (and search's sections)
            top = page.toc.items
            if len(top) == 1 and top[0].level == 1:  # under the page's one title
                top = top[0].children
            top.extend(get_toc(getattr(md, "toc_tokens", [])).items)
        return context

    def on_post_page(self, output, page, config):
        if page.file.src_uri.endswith(".ipynb"):
            output = externalize_styles(output, Path(config.site_dir),
                                        lambda path: get_relative_url(path, page.url))
        return render.FOLDED.sub(lambda m: serve.MEMORY.folded(
            m["key"], self.build.folded[m["key"]], config, self.root / FOLDED_DIR,
            self.build.folded_used), output)

    def on_post_build(self, config):
        build = self.build
        build.finish()
        if self.config.execute:
            for src, page in build.pages.items():  # pages a dirty rebuild skipped
                for cid, count in serve.MEMORY.citations.get(src, {}).items():
                    if cid in page.claims and not page.claims[cid].citations:
                        page.claims[cid].citations = count
            Path(config.site_dir, "claims.json").write_text(
                site_pages.claims_json(build.pages, self.urls), encoding="utf-8")
        if not serve.MEMORY.dirty and not self.config.only:  # every listing known
            from snippet_runner.cache import prune
            prune(self.root / FOLDED_DIR, build.folded_used)
        log.info("snippets executed in this build: %d",
                 sum(not r.cached for r in build.runs.values()))
