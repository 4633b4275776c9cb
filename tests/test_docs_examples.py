"""Small `python` fences written directly in docs/ run, and print what their `#>`
comments say. Include (--8<--) fences and executed fences are not examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_examples import CodeExample, EvalExample, find_examples

DOCS = Path(__file__).resolve().parents[1] / "docs"


def is_inline_example(example: CodeExample) -> bool:
    language = (example.prefix.strip(" {.").split() or [""])[0]
    return (language in {"py", "python"} and "exec=" not in example.prefix
            and "--8<--" not in example.source)


EXAMPLES = [e for e in find_examples(str(DOCS)) if is_inline_example(e)]


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
def test_docs_example(example: CodeExample, eval_example: EvalExample):
    eval_example.set_config(line_length=88)
    if eval_example.update_examples:
        eval_example.run_print_update(example)
    else:
        eval_example.run_print_check(example)
