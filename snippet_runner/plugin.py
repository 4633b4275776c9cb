"""MkDocs plugin: turn ```snippet fences into source + real output + verified claims.

A fence names a snippet file (from the project root) and options::

    ```snippet
    path: snippets/threads/io_bound.py
    timeout: 20
    hl_lines: 12 14
    ```

The plugin shows the file, runs it in its own process (see ``runner``), shows the
command and its stdout, inlines the figures it drew, and ends the page with a
"Verified at build" table of every claim its snippets checked.
"""

from __future__ import annotations

import hashlib
import html
import logging
import os
import platform
import re
import sys
from pathlib import Path

from mkdocs.config import config_options
from mkdocs.config.base import Config
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin

from snippet_runner.notebooks import run_notebook
from snippet_runner.runner import SnippetFailure, SnippetRun, run_snippet

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


class SnippetRunnerConfig(Config):
    snippets_dir = config_options.Type(str, default="snippets")
    cache_dir = config_options.Type(str, default=".cache/snippets")
    timeout = config_options.Type((int, float), default=30)
    notebook_timeout = config_options.Type((int, float), default=60)


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


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _fenced(language: str, text: str, attrs: str = "") -> str:
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}{language}{(' ' + attrs) if attrs else ''}\n{text}\n{fence}"


def highlighted_lines(source: str, options: dict[str, str], where: str) -> str:
    """`hl_lines: 3 5-7` as given (checked against the file's length), plus the lines
    containing each `highlight: text | other text`, where `start ... end` spans from
    the first line containing start to the next containing end. Every text must
    match, so a highlight follows the code when the file is edited."""
    count = len(source.splitlines())
    spans = options.get("hl_lines", "").split()
    for span in spans:
        if not re.fullmatch(r"\d+(-\d+)?", span) or int(span.split("-")[-1]) > count:
            raise PluginError(f"{where}: hl_lines {span!r} is not within 1-{count}")
    lines = source.splitlines()

    def first(text: str, start: int = 0) -> int:
        for n in range(start, count):
            if text in lines[n]:
                return n
        raise PluginError(f"{where}: no line contains highlight {text!r}")

    texts = (t.strip() for t in options.get("highlight", "").split("|"))
    for text in filter(None, texts):
        if " ... " in text:  # a range: from the first line with A to the next with B
            a, b = (part.strip() for part in text.split(" ... ", 1))
            begin = first(a)
            spans.append(f"{begin + 1}-{first(b, begin) + 1}")
        else:
            spans += [str(n) for n, line in enumerate(lines, 1) if text in line]
            first(text)
    return " ".join(spans)


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


class SnippetRunnerPlugin(BasePlugin[SnippetRunnerConfig]):
    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        self.snippets = (self.root / self.config.snippets_dir).resolve()
        cache = self.root / self.config.cache_dir
        self.execute = _env_flag("SNIPPETS_EXECUTE", True)
        self.fresh = _env_flag("SNIPPETS_FRESH", False)
        self.cache_dir = cache
        self.ran: list[str] = []
        if str(self.snippets) not in config.watch:
            config.watch.append(str(self.snippets))
        return config

    def on_pre_page(self, page, config, files):
        # Runs before mkdocs-jupyter's own hook, which then renders the executed copy.
        if page.file.src_uri.endswith(".ipynb") and self.execute:
            page.file.abs_src_path = str(run_notebook(
                self.root, Path(page.file.abs_src_path),
                self.cache_dir.parent / "notebooks",
                timeout=self.config.notebook_timeout, fresh=self.fresh))
        return page

    def on_page_markdown(self, markdown, page, config, files):
        claims: list[dict] = []
        docs = Path(config.docs_dir).resolve()
        page_path = f"{docs.relative_to(self.root)}/{page.file.src_uri}"

        def replace(indent: str, body: str) -> list[str]:
            rendered = self._render(self._options(body, page_path), claims, page_path)
            return [indent + line if line else line for line in rendered.splitlines()]

        markdown = "\n".join(replace_snippet_fences(markdown.splitlines(), replace))
        if claims:
            markdown += self._verified_table(claims)
        return markdown

    def _options(self, body: str, page_path: str) -> dict[str, str]:
        options = {}
        for line in body.strip().splitlines():
            key, sep, value = line.strip().partition(":")
            if not sep or key.strip() not in OPTIONS:
                raise PluginError(f"{page_path}: bad snippet option line {line!r}; "
                                  f"use 'key: value' with keys {sorted(OPTIONS)}")
            options[key.strip()] = value.strip()
        if "path" not in options:
            raise PluginError(f"{page_path}: a snippet fence needs 'path: <file>'")
        file = (self.root / options["path"]).resolve()
        if not file.is_relative_to(self.snippets) or file.suffix != ".py":
            raise PluginError(f"{page_path}: a snippet path names a .py file under "
                              f"{self.config.snippets_dir}/, got {options['path']!r}")
        if not file.is_file():
            raise PluginError(f"{page_path}: snippet file not found: {options['path']}")
        return options

    def _render(self, options: dict[str, str], claims: list[dict], page: str) -> str:
        rel = options["path"]
        source = (self.root / rel).read_text(encoding="utf-8").rstrip("\n")
        attrs = f'title="{rel}" linenums="1"'
        lines = highlighted_lines(source, options, f"{page}: {rel}")
        if lines:
            attrs += f' hl_lines="{lines}"'
        parts = [] if options.get("source") == "hide" else [
            '<div class="snippet-source" markdown>', "",
            _fenced("python", source, attrs), "", "</div>", ""]
        if not self.execute:
            parts.append('!!! note "Not executed"\n    This build ran with '
                         "`SNIPPETS_EXECUTE=0`, so no output is shown.")
            return "\n".join(parts) + "\n"
        run = self._run(rel, float(options.get("timeout", self.config.timeout)), page)
        output = f"$ {run.command}\n{run.stdout.rstrip()}"
        parts.append(_fenced("console", output, 'title="output (run at build)"'))
        for name, svg in run.figures.items():
            flat = " ".join(svg.split())
            parts += ["", f'<figure class="snippet-figure" id="figure-{name}">{flat}'
                          "</figure>"]
        known = {(c["source"], c["statement"]) for c in claims}
        claims += [dict(c, source=rel) for c in run.claims
                   if (rel, c["statement"]) not in known]
        return "\n".join(parts) + "\n"

    def _run(self, rel: str, timeout: float, page: str) -> SnippetRun:
        try:
            run = run_snippet(self.root, rel, timeout, self.cache_dir, self.fresh)
        except SnippetFailure as error:
            raise PluginError(f"snippet failed on page {page}: {error}") from None
        for claim in run.unchecked:
            unchecked_log.warning("not checked here: %s: %s (%s)", rel,
                                  claim["statement"], claim.get("reason", ""))
        if run.cached:
            log.info("snippet %s: cached result reused", rel)
        else:
            self.ran.append(rel)
            log.info("snippet %s: ran in %.1f s", rel, run.seconds)
            if run.stderr.strip():
                log.info("stderr of %s:\n%s", rel, run.stderr.rstrip())
        return run

    def _verified_table(self, claims: list[dict]) -> str:
        rows = "\n".join(
            f"| {_cell(c['statement'])} | {_cell(c['evidence'])} | "
            f"{_verdict(c)} | "
            f"`{_cell(c['source'])}` |" for c in claims)
        return (
            "\n\n## Verified at build\n\n"
            "Every claim below was checked by the snippets above when this page "
            "was built; a claim that fails stops the build, and one that could not "
            "be measured on the build machine says *not checked here* and why.\n\n"
            "| Claim | Measured | Result | Snippet |\n|---|---|---|---|\n"
            f"{rows}\n\n<p class=\"environment-stamp\">Measured with "
            f"{html.escape(environment_stamp())}.</p>\n")

    def on_post_page(self, output, page, config):
        if page.file.src_uri.endswith(".ipynb"):
            output = externalize_styles(output, page.url, Path(config.site_dir))
        return output

    def on_post_build(self, config):
        log.info("snippets executed in this build: %d", len(self.ran))
