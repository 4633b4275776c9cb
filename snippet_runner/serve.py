"""What lives across the rebuilds of one `mkdocs serve` process, to keep reloads fast.

* compiled theme templates (MkDocs makes a new Jinja environment every build);
* a faster file watcher (MkDocs polls every 0.5 s);
* under `--dirty`, which pages to re-render: a page also shows its snippets' source
  and output, so it is re-rendered when any of them changed, not only its own file;
* runs the disk cache refuses (a claim not checked here) while nothing they depend
  on changes: an edit to a page must not re-run a demo that was merely excused;
* the folded whole-file listings, rendered once (also kept on disk).
"""

from __future__ import annotations

import hashlib
import logging
from importlib.metadata import version
from pathlib import Path

import jinja2
import jinja2.bccache

POLL_SECONDS = 0.05


class CompiledTemplates(jinja2.BytecodeCache):
    """Compiled template code kept for the life of the process; Jinja checks each
    entry against its source."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


class DirtyIsDeliberate(logging.Filter):
    """`serve --dirty` is how live reload stays fast, and this plugin re-renders the
    pages a snippet change affects: MkDocs' warning about it must not fail --strict."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "A 'dirty' build is being performed" in record.getMessage():
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


class Memory:
    """One per process: empty for `mkdocs build`, kept across `serve` rebuilds."""

    def __init__(self) -> None:
        self.serve = self.dirty = False
        self.templates = CompiledTemplates()
        self.shown: dict[str, tuple[str, ...]] = {}  # page -> what it showed last
        self.runs: dict = {}  # cache key -> run, serve only
        self.folded_html: dict[str, str] = {}
        self.citations: dict[str, dict[str, int]] = {}  # page -> id -> count
        self.stamp: tuple = (None, "")  # the Markdown settings' stamp, per config

    def start(self, command: str, dirty: bool) -> None:
        self.serve = command == "serve"
        self.dirty = self.serve and dirty
        if self.dirty:
            logging.getLogger("mkdocs.commands.build").addFilter(DirtyIsDeliberate())

    def rerender_if_changed(self, file, shown: tuple[str, ...]) -> None:
        """Mark a page modified when what it shows changed since its last render.
        The page's own mtime counts too: an edit saved while a build rendered the
        old text leaves the output newer than the source, and MkDocs' own check
        (output older than source) would then skip it."""
        shown = shown + (str(Path(file.abs_src_path).stat().st_mtime_ns),)
        if self.shown.get(file.src_uri) != shown:
            file.is_modified = lambda: True  # this File object lives for one build
        self.shown[file.src_uri] = shown

    def folded(self, key: str, markdown_text: str, config, folder: Path,
               used: set[str]) -> str:
        """A folded whole-file listing as HTML, rendered with the site's own
        Markdown settings (kept per process and on disk, keyed by the text, the
        settings and the renderers' versions); its file's key goes into `used`."""
        if self.stamp[0] is not config:
            self.stamp = (config, markdown_stamp(config))
        stamp = hashlib.sha256(repr((key, self.stamp[1])).encode())
        name = stamp.hexdigest()[:24]
        used.add(name)
        done = self.folded_html.get(name)
        if done is not None:
            return done
        path = folder / f"{name}.html"
        if path.is_file():
            done = path.read_text(encoding="utf-8")
        else:
            import markdown

            done = markdown.Markdown(extensions=config.markdown_extensions,
                                     extension_configs=config.mdx_configs).convert(
                                         markdown_text)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(done, encoding="utf-8")
        self.folded_html[name] = done
        return done


def markdown_stamp(config) -> str:
    def stable(value):  # functions (markdown-exec's fences) by name, not address
        if isinstance(value, dict):
            return {k: stable(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [stable(v) for v in value]
        if callable(value):
            return (f"{getattr(value, '__module__', '')}."
                    f"{getattr(value, '__qualname__', type(value).__name__)}")
        return value

    renderers = [version(p) for p in ("markdown", "pymdown-extensions", "pygments")]
    return repr(stable([config.markdown_extensions, config.mdx_configs, renderers]))


def faster_watcher(server, config):
    """Watch for edits every POLL_SECONDS instead of every 0.5 s: the wait for the
    watcher is most of a prose edit's reload once only that page rebuilds. MkDocs
    has no option for it, so the paths it watches so far are watched again by a
    faster observer (the watch list in mkdocs.yml comes after)."""
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


MEMORY = Memory()
