"""Every option of the snippets-runner plugin, declared in one place.

Options come from `mkdocs.yml`; where an environment variable should set one, the
config says so with `!ENV` (`execute: !ENV [SNIPPETS_EXECUTE, true]`), so no code
here reads the environment by hand.
"""

from __future__ import annotations

from mkdocs.config import config_options
from mkdocs.config.base import Config


class Flag(config_options.BaseConfigOption[bool]):
    """A yes/no option that also takes what `!ENV` reads from a variable: `0`,
    `1`, `off`, `yes`, an empty string..."""

    def __init__(self, default: bool) -> None:
        super().__init__()
        self.default = default

    def run_validation(self, value: object) -> bool:
        if value is None:
            return self.default
        if isinstance(value, (bool, int)):
            return bool(value)
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off", ""}:
            return False
        raise config_options.ValidationError(f"expected yes or no, got {value!r}")


class Names(config_options.BaseConfigOption[list]):
    """A list of names, also as one comma-separated string (what `!ENV` gives)."""

    def __init__(self) -> None:
        super().__init__()
        self.default: list[str] = []

    def run_validation(self, value: object) -> list[str]:
        if value is None:
            return []
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(v).strip() for v in items if str(v).strip()]


class SnippetRunnerConfig(Config):
    snippets_dir = config_options.Type(str, default="snippets")
    cache_dir = config_options.Type(str, default=".cache/snippets")
    notebook_cache_dir = config_options.Type(str, default=".cache/notebooks")
    timeout = config_options.Type((int, float), default=30)
    notebook_timeout = config_options.Type((int, float), default=60)
    # page src path -> [topics]: tags, the Topics page and related episodes
    topics = config_options.Type(dict, default={})
    # run snippets and notebooks (off: layout work, nothing is executed)
    execute = Flag(default=True)
    # ignore cached results: run every snippet and notebook again
    fresh = Flag(default=False)
    # run only these pages' snippets and notebooks (slugs such as `threads`, or
    # paths under docs/); the others render without output, and nothing is pruned
    only = Names()
    # "i/N": run only shard i of N (a stable share of the snippets and notebooks);
    # the caches of all N shards, merged into one .cache, make a build that runs
    # nothing. Nothing is pruned in a shard's build.
    shard = config_options.Type(str, default="")
    # where `make bench` leaves its figures, shown on the build report
    bench_file = config_options.Type(str, default=".cache/bench.json")
