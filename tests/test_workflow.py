"""The publishing workflow: actionlint and zizmor find nothing, it deploys on a push
to main, and the weekly re-verification runs every claim afresh without deploying."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: it is in requirements.lock (make setup)")
    return found


@pytest.mark.parametrize("checker", [["actionlint"], ["zizmor", "--offline"]],
                         ids=["actionlint", "zizmor"])
def test_the_workflows_pass_their_checkers(checker):
    done = subprocess.run([tool(checker[0]), *checker[1:], *map(str, WORKFLOWS)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_push_deploys_and_the_schedule_reverifies_without_deploying():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "site.yml").read_text())
    triggers = flow[True]  # YAML reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"] and triggers["schedule"]
    shard_env = {k: v for step in flow["jobs"]["shard"]["steps"]
                 for k, v in step.get("env", {}).items()}
    assert shard_env["SNIPPETS_FRESH"] == "1" and "SNIPPETS_SHARD" in shard_env
    for job in ("publish", "deploy"):
        assert flow["jobs"][job]["if"] == "github.event_name == 'push'"
    setup = [s["run"] for s in flow["jobs"]["shard"]["steps"] if "run" in s]
    assert "make setup" in setup  # the README's command, nothing of its own
