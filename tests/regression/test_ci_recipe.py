"""The CI recipe: main's runs kept on a git branch between jobs, bounded; the workflow's commands.

scripts/ci_results_branch.sh is run for real against a local bare repository standing in for
GitHub (restore, add runs, save with KEEP, restore again in a fresh clone, `harness history`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.cli import build_parser, main
from tests.helpers import ROOT

SCRIPT = ROOT / "scripts" / "ci_results_branch.sh"


def sh(*args: str, cwd: Path) -> str:
    env = {**os.environ, "HARNESS": f"{sys.executable} -m harness", "PYTHONPATH": str(ROOT),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}  # fmt: skip
    res = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    remote = tmp_path / "remote.git"
    sh("git", "init", "-q", "--bare", str(remote), cwd=tmp_path)
    work = tmp_path / "work"
    sh("git", "clone", "-q", str(remote), str(work), cwd=tmp_path)
    (work / "README").write_text("x\n")
    sh("git", "add", "README", cwd=work)
    sh("git", "commit", "-qm", "init", cwd=work)
    sh("git", "push", "-q", "origin", "HEAD:main", cwd=work)
    return work


def test_results_branch_is_kept_and_bounded(repo, make_run, tmp_path):
    for round_ in range(2):  # two CI jobs on main, each adding runs
        out = sh("bash", str(SCRIPT), "restore", "store", cwd=repo)
        assert f"restored {3 * round_} run(s)" in out
        for i in range(3):
            n = 3 * round_ + i
            make_run(f"run-{n:02d}", parent=repo / "store" / "runs", seed=n, repeats=3, optimizers=("sgd",),
                     meta={"git": {"commit": f"{n:040d}", "commit_utc": f"2026-01-{n + 1:02d}T00:00:00+00:00"},
                           "suite": {"name": "ci", "text": "[suite]\n"}})  # fmt: skip
        sh("bash", str(SCRIPT), "save", "store", "3", cwd=repo)
        assert not (repo / "store").exists()
    # bounded: the branch is one commit holding the newest 3 runs
    fresh = tmp_path / "fresh"
    sh("git", "clone", "-q", str(tmp_path / "remote.git"), str(fresh), cwd=tmp_path)
    log = sh("git", "log", "--oneline", "origin/benchmark-results", cwd=fresh)
    assert len(log.splitlines()) == 1
    sh("bash", str(SCRIPT), "restore", "store", cwd=fresh)
    assert sorted(p.name for p in (fresh / "store" / "runs").iterdir()) == ["run-03", "run-04", "run-05"]
    assert main(["history", str(fresh / "store" / "runs")]) == 0


def test_workflow_gates_prs_and_tracks_history_on_main():
    wf = yaml.safe_load((ROOT / ".github" / "workflows" / "benchmarks.yml").read_text())
    gate, history = wf["jobs"]["gate"], wf["jobs"]["history"]
    gate_cmds = " ".join(s.get("run", "") for s in gate["steps"])
    assert "--interleave-with" in gate_cmds and "--fail-on-unreachable" in gate_cmds
    assert "harness compare --pool" in gate_cmds and "--fail-on-inconclusive" in gate_cmds
    hist_cmds = " ".join(s.get("run", "") for s in history["steps"])
    assert "ci_results_branch.sh restore store" in hist_cmds and "harness history store/runs" in hist_cmds
    assert "ci_results_branch.sh save store" in hist_cmds and history["permissions"]["contents"] == "write"
    assert "harness publish store/runs --out site" in hist_cmds  # the results site (issue 27)
    assert wf["jobs"]["deploy-site"]["needs"] == "history" and "!cancelled()" in wf["jobs"]["deploy-site"]["if"]
    parser = build_parser()
    for cmd in ("run", "compare", "history", "prune", "publish"):  # every command the workflow uses exists
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([cmd, "--help"])
        assert exc.value.code == 0
