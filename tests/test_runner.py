"""The snippet runner under fault injection: each fault fails the build clearly or is
contained, within its timeout, and nothing is left running."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = [sys.executable, "-m", "mkdocs", "build", "--strict"]

GOOD = '''"""Prints a table, some HTML, and checks one finding."""
import sys
from snippets.report import equals, finding, publish, table
from snippets.demo import _helper

ANSWER = finding("answer", "the answer is {bound}", equals(42))


def main():
    print(table(["what", "value"], [["answer", _helper.ANSWER]]))
    print("<script>alert('x')</script> ``` done")
    print("a note for the log", file=sys.stderr)
    publish([ANSWER.of(_helper.ANSWER)])

if __name__ == "__main__":
    main()
'''
PUBLISH = ("from snippets.report import check, equals, publish\n"
           "publish([check('ran', 'it ran', equals('yes')).of('yes')])\n")

FAULTS = {
    "hang": "import time\ntime.sleep(600)\n",
    "raises": "raise RuntimeError('the snippet broke')\n",
    "helper_raises": "import snippets.demo._boom\n",
    "exits_early": "import sys\nprint('partial output')\nsys.exit(0)\n",
    "broken_claim": ("from snippets.report import below, check, publish\n"
                     "publish([check('order', 'two is {bound}', below(1)).of(2)])\n"),
    "leaves_child": (
        "import subprocess, sys, pathlib\n"
        "sleeper = [sys.executable, '-c', 'import time; time.sleep(600)']\n"
        "child = subprocess.Popen(sleeper, stdout=subprocess.DEVNULL,\n"
        "                         stderr=subprocess.DEVNULL)\n"
        "pathlib.Path(sys.argv[0]).with_suffix('.pid').write_text(str(child.pid))\n"
        + PUBLISH),
    "not_checked": (
        "from snippets.report import check, equals, publish\n"
        "publish([check('one', 'one is one', equals(1)).of(1),\n"
        "         check('strace', 'strace sees it', equals(1))\n"
        "         .not_checked('strace is not installed')])\n"),
    "leaves_thread": (
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,)).start()\n" + PUBLISH),
}
HELPERS = {"_helper": "ANSWER = 42\n",
           "_boom": "# a helper that breaks when imported\nraise ValueError('boom')\n",
           "_sleepy": "import time\n\ndef nap():\n    time.sleep(600)\n"}
CITES = {"good": "The answer is [](claim:answer).",
         "other": "The other is [](claim:other)."}


def make_project(tmp: Path, pages: dict[str, str], timeout: int = 3) -> Path:
    (tmp / "docs").mkdir()
    (tmp / "snippets" / "demo").mkdir(parents=True)
    (tmp / "snippets" / "__init__.py").write_text("")
    (tmp / "snippets" / "demo" / "__init__.py").write_text("")
    shutil.copy(ROOT / "snippets" / "report.py", tmp / "snippets" / "report.py")
    for name, code in HELPERS.items():
        (tmp / "snippets" / "demo" / f"{name}.py").write_text(code)
    (tmp / "snippets" / "demo" / "good.py").write_text(GOOD)
    (tmp / "snippets" / "demo" / "other.py").write_text(GOOD.replace("answer", "other"))
    for name, code in FAULTS.items():
        (tmp / "snippets" / "demo" / f"{name}.py").write_text(code)
    for page, snippets in pages.items():
        fences = "\n".join(
            f"```snippet\npath: snippets/demo/{s}.py\ntimeout: {timeout}\n```\n"
            for s in snippets.split())
        cites = "\n\n".join(CITES[s] for s in snippets.split() if s in CITES)
        (tmp / "docs" / f"{page}.md").write_text(f"# {page}\n\n{fences}\n{cites}\n")
    (tmp / "mkdocs.yml").write_text(
        "site_name: fault injection\nstrict: true\nplugins:\n  - snippets-runner:\n"
        "      execute: !ENV [SNIPPETS_EXECUTE, true]\n"
        "      fresh: !ENV [SNIPPETS_FRESH, false]\n"
        "markdown_extensions:\n  - tables\n  - md_in_html\n  - pymdownx.superfences\n"
        "  - pymdownx.highlight\n")
    return tmp


def build(project: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(MKDOCS, cwd=project, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, **env))


def ran(result: subprocess.CompletedProcess) -> list[str]:
    return [line.split("snippet ", 1)[1].split(":")[0]
            for line in result.stderr.splitlines() if ": ran in " in line]


def test_good_snippet_renders_output_claims_and_escapes_html(tmp_path):
    result = build(make_project(tmp_path, {"index": "good"}))
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)
    assert "$ make setup  # once, in a clone of the repository" in text
    assert "$ .venv/bin/python -m snippets.demo.good" in text
    assert "&lt;script&gt;alert" in page and "<script>alert" not in page
    assert "Verified at build" in page and "the answer is exactly 42" in page
    assert "a note for the log" in result.stderr  # stderr of a good run reaches the log


@pytest.mark.parametrize("fault, expected", [
    ("hang", "timed out after 3 s, stuck at snippets/demo/hang.py:2 (in <module>); "
             "its process group was killed"),
    ("raises", "raised at snippets/demo/raises.py:1 (in <module>): RuntimeError: "
               "the snippet broke"),
    ("helper_raises", "raised at snippets/demo/_boom.py:2 (in <module>): "
                      "ValueError: boom"),
    ("exits_early", "exited 0 without publishing its claims"),
    ("broken_claim", "a claim did not hold: two is under 1: measured 2, needs under 1"),
    ("leaves_thread", "timed out after 3 s"),
])
def test_fault_fails_the_build_with_one_clear_message(tmp_path, fault, expected):
    start = time.monotonic()
    result = build(make_project(tmp_path, {"index": "good", "faulty": fault}))
    assert time.monotonic() - start < 60
    assert result.returncode == 1
    message = result.stderr
    assert f"snippet failed on page docs/faulty.md: snippets/demo/{fault}.py" in message
    assert expected in message
    assert f"run it by hand: python -m snippets.demo.{fault}" in message
    assert "Traceback" not in "".join(p.read_text() for p in tmp_path.rglob("*.html"))


def test_a_child_left_running_is_killed_and_fails_the_build(tmp_path):
    result = build(make_project(tmp_path, {"index": "leaves_child"}))
    assert result.returncode == 1
    assert "left processes running (they were killed)" in result.stderr
    pid = int((tmp_path / "snippets" / "demo" / "leaves_child.pid").read_text())
    assert not _alive(pid)


PROBE = """import os, sys
print(sorted(k for k in globals() if not k.startswith("__")), __name__, __spec__.name)
print(os.path.relpath(sys.argv[0]), sys.argv[1:], repr(sys.stdin.read()))
print(os.getsid(0) == os.getpid(), sys.path[0] == os.getcwd(),
      sys.flags.hash_randomization)
print(sorted(k for k in os.environ if k.startswith("SNIPPET")), file=sys.stderr)
from snippets.report import check, equals, publish
publish([check("ran", "it ran", equals("yes")).of("yes")])
"""


def test_a_snippet_forked_from_the_zygote_is_what_python_m_starts(tmp_path,
                                                                  monkeypatch):
    from snippet_runner import runner, zygote

    project = make_project(tmp_path, {})
    (project / "snippets" / "demo" / "probe.py").write_text(PROBE)
    forked = runner.execute(project, "snippets/demo/probe.py", 30)

    def unavailable(*args):
        raise zygote.Unavailable("off for this test")
    monkeypatch.setattr(zygote, "borrow", unavailable)
    spawned = runner.execute(project, "snippets/demo/probe.py", 30)
    assert (forked.stdout, forked.stderr) == (spawned.stdout, spawned.stderr)
    assert forked.stdout.splitlines()[:3] == [
        "['os', 'sys'] __main__ snippets.demo.probe",
        "snippets/demo/probe.py [] ''", "True True 0"]


SPAN = """import os, time
{timing}
start = time.monotonic()
time.sleep(0.4)
with open(os.environ["SPANS"], "a") as spans:
    spans.write(f"{{__spec__.name}} {{start}} {{time.monotonic()}}\\n")
from snippets.report import check, equals, publish
name = __spec__.name.rsplit(".", 1)[1]
publish([check(name, "it slept", equals("yes")).of("yes")])
"""


def test_snippets_that_time_things_run_alone_the_others_side_by_side(tmp_path):
    project = make_project(tmp_path, {"a": "count1 timed1 count2", "b": "count3 timed2"})
    shutil.copy(ROOT / "snippets" / "measure.py", project / "snippets" / "measure.py")
    demo = project / "snippets" / "demo"
    for name in ("count1", "count2", "count3"):
        (demo / f"{name}.py").write_text(SPAN.format(timing=""))
    for name in ("timed1", "timed2"):  # through a helper: the import is followed
        (demo / f"{name}.py").write_text(SPAN.format(timing="import snippets.demo._t"))
    (demo / "_t.py").write_text("from snippets import measure\n")
    (project / "docs" / "report.md").write_text(
        "# report\n\n<!-- snippets-runner:build-report -->\n")
    spans_file = tmp_path / "spans.txt"
    result = build(project, SPANS=str(spans_file))
    assert result.returncode == 0, result.stderr
    spans = {}
    for line in spans_file.read_text().splitlines():
        name, start, end = line.split()
        spans[name.rsplit(".", 1)[1]] = (float(start), float(end))
    assert sorted(spans) == ["count1", "count2", "count3", "timed1", "timed2"]

    def overlap(a: str, b: str) -> bool:
        return spans[a][0] < spans[b][1] and spans[b][0] < spans[a][1]
    for timed in ("timed1", "timed2"):
        assert not [o for o in spans if o != timed and overlap(timed, o)]
    assert overlap("count1", "count2")  # two cores or more: side by side
    assert max(spans[t][1] for t in ("timed1", "timed2")) < min(
        spans[c][0] for c in ("count1", "count2", "count3"))  # timing runs first
    page = re.sub(r"<[^>]+>", "", (project / "site" / "a" / "index.html").read_text())
    shown = [m for m in re.findall(r"python -m snippets\.demo\.(\w+)", page)]
    assert shown == ["count1", "timed1", "count2"]  # the page's fence order
    report = (project / "site" / "report" / "index.html").read_text()
    assert all(f"demo/{n}.py" in report for n in spans)  # rendered after every run
    assert "snippets run side by side: 3" in result.stderr
    assert "snippets run alone: 2" in result.stderr


def test_no_zygote_outlives_its_build(tmp_path):
    result = build(make_project(tmp_path, {"index": "good other"}))
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 10
    while _zygotes_in(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _zygotes_in(tmp_path) == []


def _zygotes_in(folder: Path) -> list[int]:
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (b"snippet_runner.zygote" in (proc / "cmdline").read_bytes()
                    and Path(os.readlink(proc / "cwd")) == folder):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_chdir_in_one_snippet_does_not_leak_into_the_next_page(tmp_path):
    project = make_project(tmp_path, {"a": "chdir", "b": "good"})
    (project / "snippets" / "demo" / "chdir.py").write_text(
        "import os\nos.chdir('/')\n"
        "from snippets.report import check, equals, publish\n"
        "publish([check('moved', 'moved to /', equals('/')).of(os.getcwd())])\n")
    result = build(project)
    assert result.returncode == 0, result.stderr


def test_unchanged_snippets_are_not_rerun_and_an_edit_reruns_only_its_own(tmp_path):
    project = make_project(tmp_path, {"index": "good other"})
    first = build(project)
    assert first.returncode == 0, first.stderr
    assert sorted(ran(first)) == ["snippets/demo/good.py", "snippets/demo/other.py"]
    assert ran(build(project)) == []
    other = project / "snippets" / "demo" / "other.py"
    other.write_text(other.read_text() + "\n# an edit\n")
    assert ran(build(project)) == ["snippets/demo/other.py"]
    helper = project / "snippets" / "demo" / "_helper.py"
    helper.write_text("ANSWER = 42  # an edit to an imported module\n")
    assert sorted(ran(build(project))) == ["snippets/demo/good.py",
                                           "snippets/demo/other.py"]
    assert len(ran(build(project, SNIPPETS_FRESH="1"))) == 2


def test_a_claim_not_checked_here_warns_but_does_not_fail_a_strict_build(tmp_path):
    project = make_project(tmp_path, {"index": "not_checked"})
    result = build(project)
    assert result.returncode == 0, result.stderr
    assert ("WARNING -  not checked here: snippets/demo/not_checked.py: strace sees "
            "it (strace is not installed)") in result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert 'class="claim-unchecked"' in page and "strace is not installed" in page
    assert "claim-broken" not in page
    assert ran(build(project)) == ["snippets/demo/not_checked.py"]  # not cached


def test_execution_can_be_switched_off(tmp_path):
    result = build(make_project(tmp_path, {"index": "hang"}), SNIPPETS_EXECUTE="0")
    assert result.returncode == 0, result.stderr
    assert "Not executed" in (tmp_path / "site" / "index.html").read_text()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.parametrize("cell, expected", [
    ("x = 1\nraise ValueError('a broken cell')",
     "cell 2 ('x = 1') raised at docs/bad.ipynb: cell 2, line 2: "
     "ValueError: a broken cell"),
    ("import snippets.demo._boom",
     "cell 2 ('import snippets.demo._boom') raised at snippets/demo/_boom.py:2: "
     "ValueError: boom"),
    ("import time\ntime.sleep(600)",
     "cell 2 ('import time') ran longer than 3 s, stuck at docs/bad.ipynb: cell 2, "
     "line 2"),
    ("from snippets.demo import _sleepy\n_sleepy.nap()",
     "cell 2 ('from snippets.demo import _sleepy') ran longer than 3 s, stuck at "
     "snippets/demo/_sleepy.py:4 (in nap)"),
    ("from snippets.report import below, check, publish\n"
     "publish([check('order', 'two is {bound}', below(1)).of(2)])",
     "cell 2 ('from snippets.report import below, check, publish'): a claim did not "
     "hold: two is under 1: measured 2, needs under 1"),
])
def test_a_failing_notebook_fails_the_build_clearly(tmp_path, cell, expected):
    import nbformat

    project = make_project(tmp_path, {"index": "good"})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook"),
                nbformat.v4.new_code_cell(cell)]
    nbformat.write(nb, project / "docs" / "bad.ipynb")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "      fresh: !ENV [SNIPPETS_FRESH, false]\n",
        "      fresh: !ENV [SNIPPETS_FRESH, false]\n      notebook_timeout: 3\n"
        "  - mkdocs-jupyter:\n      include: ['*.ipynb']\n      allow_errors: false\n"))
    start = time.monotonic()
    result = build(project)
    assert time.monotonic() - start < 60
    assert result.returncode == 1
    assert f"notebook failed: docs/bad.ipynb: {expected}" in result.stderr
    assert "\x1b[" not in result.stderr  # no ANSI colour codes in the log


def test_highlight_follows_text_and_a_stale_one_fails_the_build(tmp_path):
    project = make_project(tmp_path, {"index": "good"})
    page = project / "docs" / "index.md"
    text = page.read_text()
    page.write_text(text.replace("timeout: 3", "timeout: 3\nhighlight: publish(["))
    assert build(project).returncode == 0
    assert 'class="hll"' in (project / "site" / "index.html").read_text()
    page.write_text(page.read_text().replace("publish([", "no such text"))
    result = build(project)
    assert result.returncode == 1
    assert "no line contains highlight 'no such text'" in result.stderr


def test_editing_a_data_file_of_the_package_reruns_its_snippets(tmp_path):
    project = make_project(tmp_path, {"index": "good"})
    programs = project / "snippets" / "demo" / "programs"
    programs.mkdir()
    (programs / "read.c").write_text("int main(void) { return 0; }\n")
    assert ran(build(project)) == ["snippets/demo/good.py"]
    assert ran(build(project)) == []
    (programs / "read.c").write_text("int main(void) { return 1; }\n")
    assert ran(build(project)) == ["snippets/demo/good.py"]


def test_a_fence_naming_a_file_outside_snippets_fails_the_build(tmp_path):
    project = make_project(tmp_path, {"index": "good"})
    page = project / "docs" / "index.md"
    page.write_text(page.read_text().replace("snippets/demo/good.py", "mkdocs.yml"))
    result = build(project)
    assert result.returncode == 1
    assert "a snippet path names a .py file under snippets/" in result.stderr


def test_notebooks_render_first_and_the_build_report_last(tmp_path):
    from mkdocs.structure.files import File, Files

    from snippet_runner.plugin import REPORT_MARKER, SnippetRunnerPlugin

    docs = tmp_path / "docs"
    names = {"index.md": "# Home", "a.md": "# A", "report.md": REPORT_MARKER,
             "b.ipynb": "{}", "style.css": ""}
    for name, text in names.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    files = Files([File(n, str(docs), str(tmp_path / "site"), True) for n in names])
    ordered = SnippetRunnerPlugin().on_files(files, config=None)
    uris = [f.src_uri for f in ordered]
    assert uris[0] == "b.ipynb" and uris[-1] == "report.md"
    assert sorted(uris) == sorted(names)


KILLS_ITS_ZYGOTE = """import os, pathlib, signal, time
with pathlib.Path(os.environ["RAN_LOG"]).open("a") as log:
    log.write("ran\\n")
os.kill(os.getppid(), signal.SIGKILL)  # the zygote that forked this process
time.sleep(5)
"""


def test_a_snippet_whose_zygote_dies_fails_and_is_not_run_twice(tmp_path,
                                                                 monkeypatch):
    from snippet_runner import runner

    project = make_project(tmp_path, {})
    (project / "snippets" / "demo" / "orphan.py").write_text(KILLS_ITS_ZYGOTE)
    monkeypatch.setenv("RAN_LOG", str(tmp_path / "ran.log"))
    with pytest.raises(runner.SnippetFailure, match="it was not run again"):
        runner.execute(project, "snippets/demo/orphan.py", 30)
    assert (tmp_path / "ran.log").read_text() == "ran\n"


def test_a_citation_of_an_unknown_id_fails_naming_the_page_and_the_id(tmp_path):
    project = make_project(tmp_path, {"index": "good"})
    page = project / "docs" / "index.md"
    page.write_text(page.read_text() + "\nAnd [](claim:no-such-claim).\n")
    result = build(project)
    assert result.returncode == 1
    assert "docs/index.md: cites claim 'no-such-claim'" in result.stderr


def test_a_finding_no_sentence_cites_fails_the_build(tmp_path):
    project = make_project(tmp_path, {"index": "good"})
    page = project / "docs" / "index.md"
    page.write_text(page.read_text().replace(CITES["good"], ""))
    result = build(project)
    assert result.returncode == 1
    assert "docs/index.md: no sentence cites the finding(s) answer" in result.stderr


def test_a_citation_shows_the_live_value_and_links_both_ways(tmp_path):
    project = make_project(tmp_path, {"index": "good"})
    result = build(project)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert re.search(r'<a class="claim-cite claim-cite-held" id="cite-answer-1" '
                     r'href="#claim-answer"[^>]*>42<', page)
    assert '<tr id="claim-answer">' in page and 'href="#cite-answer-1"' in page
    published = json.loads((tmp_path / "site" / "claims.json").read_text())
    claim = published["claims"][0]
    assert {k: claim[k] for k in ("id", "page", "snippet", "kind", "measured",
                                  "verdict", "citations")} == {
        "id": "answer", "page": "index.md", "snippet": "snippets/demo/good.py",
        "kind": "finding", "measured": 42, "verdict": "held", "citations": 1}
    assert claim["bound"] == {"op": "equals", "value": 42} and claim["measured_at"]
    assert set(published["environment"]) >= {"python", "kernel", "cores"}


def test_cache_entries_no_source_reaches_are_pruned_after_a_build(tmp_path):
    project = make_project(tmp_path, {"index": "good other"})
    assert build(project).returncode == 0
    entries = list((project / ".cache" / "snippets").rglob("*.json"))
    assert len(entries) == 2
    other = project / "snippets" / "demo" / "other.py"
    other.write_text(other.read_text() + "\n# an edit\n")
    assert build(project).returncode == 0
    after = list((project / ".cache" / "snippets").rglob("*.json"))
    assert len(after) == 2 and set(after) != set(entries)
    stale = project / ".cache" / "snippets" / "0123456789ab"  # another Python's
    stale.mkdir()
    (stale / "x.json").write_text("{}")
    old = time.time() - 40 * 86400
    os.utime(stale / "x.json", (old, old))
    os.utime(stale, (old, old))
    assert build(project).returncode == 0
    assert not stale.exists()


def test_only_runs_the_pages_it_names(tmp_path):
    project = make_project(tmp_path, {"a": "good", "b": "other"})
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "      fresh:", "      only: !ENV [SNIPPETS_ONLY, \"\"]\n      fresh:"))
    result = build(project, SNIPPETS_ONLY="a")
    assert result.returncode == 0, result.stderr
    assert ran(result) == ["snippets/demo/good.py"]
    assert "Not executed" in (project / "site" / "b" / "index.html").read_text()


def test_a_page_reads_well_folded_legend_notes_and_read_next(tmp_path):
    project = make_project(tmp_path, {"index": "good", "other": "not_checked"})
    page = project / "docs" / "index.md"
    page.write_text("---\nread_next:\n  - page: other.md\n    why: what a missing "
                    "tool looks like\n---\n" + page.read_text().replace(
                        "timeout: 3", "timeout: 3\nshow: def main ... publish(\n"
                        "notes: publish([ >> hands the claims to the build"))
    result = build(project)
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert 'class="claims-legend"' in html  # what held and not checked here mean
    assert re.search(r'<details class="claim-lines"><summary>✓ 1 finding held'
                     r"</summary>", html)  # claim lines folded under one line
    assert '<details class="verified-table">' in html  # folded: all held
    assert "# (1)!" in html and "hands the claims to the build" in html  # (Material
    # turns the marker and the list after the code into an annotation)
    assert "snippets/demo/good.py (lines 9-13)" in html  # show: a slice
    assert re.search(r"Read next.*other/.*what a missing tool looks like", html,
                     re.DOTALL)
    page.write_text(page.read_text().replace("timeout: 3", "timeout: 3\noutput: fold"))
    assert build(project).returncode == 0
    folded = (tmp_path / "site" / "index.html").read_text()
    assert re.search(r'<details class="snippet-run">\s*<summary>Run it, and the '
                     r"output of this build's run \(\d+ lines; ✓ 1 finding held\)",
                     folded)
    assert "snippet-output-title" in folded.split('class="snippet-run"')[1]
    other = (tmp_path / "site" / "other" / "index.html").read_text()
    assert "Not checked on this build" in other  # beside the output
    assert '<details class="verified-table" open>' in other  # open: not checked
    assert '<details class="claim-lines" open>' in other


def test_shards_split_the_runs_and_their_caches_merged_run_nothing(tmp_path):
    """Two machines each run one shard; their caches, copied into one .cache, make a
    build that executes nothing and publishes the same claims as a single build."""
    def project(name: str) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        made = make_project(folder, {"a": "good other", "b": "count1 count2"})
        for demo in ("count1", "count2"):
            (made / "snippets" / "demo" / f"{demo}.py").write_text(
                PUBLISH.replace("'ran'", f"'{demo}'"))
        config = made / "mkdocs.yml"
        config.write_text(config.read_text().replace(
            "      fresh:", "      shard: !ENV [SNIPPETS_SHARD, \"\"]\n      fresh:"))
        return made

    single = project("single")
    assert build(single).returncode == 0
    shards = []
    for i in (1, 2):
        machine = project(f"machine{i}")
        result = build(machine, SNIPPETS_SHARD=f"{i}/2")
        assert result.returncode == 0, result.stderr
        shards.append((set(ran(result)), machine))
    assert shards[0][0] | shards[1][0] == set(ran(build(project("again"))))
    assert not shards[0][0] & shards[1][0]  # each snippet ran on one machine only
    merged = project("merged")
    for _, machine in shards:
        shutil.copytree(machine / ".cache" / "snippets", merged / ".cache" / "snippets",
                        dirs_exist_ok=True)
    result = build(merged)
    assert result.returncode == 0, result.stderr
    assert ran(result) == []

    def published(folder: Path) -> list:
        data = json.loads((folder / "site" / "claims.json").read_text())["claims"]
        return sorted((c["page"], c["id"], c["verdict"], repr(c["measured"]),
                       c["citations"]) for c in data)
    assert published(merged) == published(single)


def test_a_notebook_cell_whose_finding_was_not_checked_carries_the_note(tmp_path):
    import nbformat

    project = make_project(tmp_path, {"index": "good"})
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A notebook"),
                nbformat.v4.new_code_cell(
                    "from snippets.report import check, equals, publish\n"
                    "publish([check('strace', 'strace sees it', equals(1))"
                    ".not_checked('strace is not installed')])")]
    nbformat.write(nb, project / "docs" / "nb.ipynb")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace(
        "      fresh: !ENV [SNIPPETS_FRESH, false]\n",
        "      fresh: !ENV [SNIPPETS_FRESH, false]\n"
        "  - mkdocs-jupyter:\n      include: ['*.ipynb']\n      allow_errors: false\n"))
    result = build(project)
    assert result.returncode == 0, result.stderr
    page = (project / "site" / "nb" / "index.html").read_text()
    assert "Not checked on this build" in page and "strace is not installed" in page
