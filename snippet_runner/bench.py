"""`make bench`: how fast the site builds and reloads, measured on a copy of the project.

    python -m snippet_runner.bench [--runs N] [--cold-runs N]

Cold build (every snippet re-run), no-change build, build with execution off,
prose-edit reload and snippet-edit reload under `mkdocs serve` (from the moment the
file is written until the served page shows the edit), each the median of several
runs, printed in seconds and as ratios to the execution-off build; plus the serial
sum of the snippets' run times against the wall time of the build's parallel phase.
The results and the machine go to .cache/bench.json, which the build report shows.
The project itself is never edited: the edits happen in a temporary copy.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("mkdocs.yml", "docs", "overrides", "snippets", "snippet_runner",
          "requirements.lock", "CONTRIBUTING.md", "README.md",
          "requirements-runtimes.lock")
# a page and one of its snippets that no notebook imports (that would re-run it too)
PAGE, SNIPPET = "docs/episodes/six-stages.md", "snippets/six_stages/tcp_lifecycle.py"
PHASE = re.compile(r"snippets run (side by side|alone): (\d+) in ([\d.]+) s of wall "
                   r"time \(their run times add up to ([\d.]+) s\)")


def copy_project(into: Path) -> Path:
    for name in COPIED:
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, into / name)
    cache = ROOT / ".cache" / "snippets"
    if cache.is_dir():
        shutil.copytree(cache, into / ".cache" / "snippets")
    return into


def build(project: Path, **env: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"],
                          cwd=project, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1", **env))
    if done.returncode:
        raise SystemExit(f"bench: the build failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _page_text(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _wait_for(url: str, marker: str, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if marker in _page_text(url):
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit(f"bench: {url} never showed {marker!r} within {timeout:g} s")


def reloads(project: Path, runs: int) -> dict[str, list[float]]:
    """Seconds from writing an edit to the served page showing it."""
    port = _free_port()
    serve = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--strict", "--dirty",
         "--dev-addr", f"127.0.0.1:{port}"], cwd=project,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    url = f"http://127.0.0.1:{port}/episodes/six-stages/"
    times: dict[str, list[float]] = {"prose edit": [], "snippet edit": []}
    try:
        _wait_for(url, "Verified at build", timeout=600)
        for i in range(runs):
            for kind, rel, line in (("prose edit", PAGE, "\nbench marker P{}\n"),
                                    ("snippet edit", SNIPPET, "\n# bench marker S{}\n")):
                path = project / rel
                original = path.read_text()
                marker = line.strip().split()[-1].format(i)
                time.sleep(1.1)  # the watcher coalesces edits closer than ~1 s
                path.write_text(original + line.format(i))
                try:
                    times[kind].append(_wait_for(url, f"bench marker {marker}"))
                finally:
                    path.write_text(original)
    finally:
        os.killpg(serve.pid, signal.SIGKILL)
        serve.wait(timeout=10)
    return times


def measure(runs: int, cold_runs: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        project = copy_project(Path(folder))
        cold, phases = [], []
        for _ in range(cold_runs):
            seconds, log = build(project, SNIPPETS_FRESH="1")
            cold.append(seconds)
            phases.append({m[1]: (int(m[2]), float(m[3]), float(m[4]))
                           for m in PHASE.finditer(log)})
        warm = [build(project)[0] for _ in range(runs)]
        noexec = [build(project, SNIPPETS_EXECUTE="0")[0] for _ in range(runs)]
        reload = reloads(project, runs)
    side = [p["side by side"] for p in phases if "side by side" in p]
    return {
        "cold build": cold, "no-change build": warm, "execution off": noexec,
        **reload,
        "parallel phase": {"snippets": side[-1][0] if side else 0,
                           "wall": [p[1] for p in side],
                           "serial sum": [p[2] for p in side]},
        "machine": f"{platform.system()} {platform.release()}, {os.cpu_count()} "
                   f"cores, Python {platform.python_version()}",
        "measured_at": time.time(),
    }


def summary(result: dict) -> list[tuple[str, float, float]]:
    base = statistics.median(result["execution off"])
    names = ("cold build", "no-change build", "execution off", "prose edit",
             "snippet edit")
    return [(n, statistics.median(result[n]), statistics.median(result[n]) / base)
            for n in names if result.get(n)]


def main(argv: list[str] | None = None) -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    args.add_argument("--runs", type=int, default=5)
    args.add_argument("--cold-runs", type=int, default=3)
    options = args.parse_args(argv)
    result = measure(options.runs, options.cold_runs)
    print(f"{'what':<18} {'median s':>9} {'/ exec off':>11}")
    for name, seconds, ratio in summary(result):
        print(f"{name:<18} {seconds:9.2f} {ratio:10.2f}x")
    phase = result["parallel phase"]
    if phase["wall"]:
        wall, serial = statistics.median(phase["wall"]), statistics.median(
            phase["serial sum"])
        print(f"parallel phase: {phase['snippets']} snippets side by side, wall "
              f"{wall:.1f} s vs serial sum {serial:.1f} s ({wall / serial:.2f}x)")
    out = ROOT / ".cache" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
