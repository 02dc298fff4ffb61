"""Baseline and candidate in the same job: ``harness run SUITE --interleave-with REF``.

A baseline measured in another job, on another machine, carries a systematic
offset no statistic can remove. This runs the same suite text with the code of
git ``REF`` (checked out in a temporary worktree) and with the current checkout,
alternating in ABBA order round after round, so slow phases of the machine hit
both sides. Each side's rounds land in one results folder; ``harness compare
--pool BASE HEAD`` then pools the rounds of each side.

Commands are argument lists (never a shell), and REF is passed to git as one
argument after ``--``-free validation by ``git rev-parse``.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from harness.errors import HarnessError, UsageError

log = logging.getLogger(__name__)


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise HarnessError(f"git {' '.join(args)} failed in {repo}: {out.stderr.strip()}")
    return out.stdout.strip()


def project_root() -> Path:
    """The git checkout that holds the running harness package."""
    here = Path(__file__).resolve().parent
    try:
        return Path(_git(here, "rev-parse", "--show-toplevel"))
    except HarnessError as exc:
        raise UsageError("--interleave-with", str(here), "the harness is not running from a git checkout") from exc


def _run_side(checkout: Path, suite: Path, results: Path, repeats: int, extra: list[str]) -> None:
    env = {**os.environ, "PYTHONPATH": str(checkout) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "harness", "run", str(suite), "--results-dir", str(results),
           "--repeats", str(repeats), "--no-progress", *extra]
    log.info("interleave: %s (in %s)", " ".join(cmd[3:]), checkout)
    code = subprocess.run(cmd, cwd=checkout, env=env).returncode
    if code != 0:
        raise HarnessError(f"interleave: `harness run` with the code of {checkout} exited with {code}")


def interleave(suite: Path, ref: str, rounds: int, repeats: int, results_dir: Path,
               extra: list[str] | None = None) -> tuple[Path, Path]:
    """Run ``rounds`` ABBA rounds of the suite, ``repeats`` repeats per side and round; (base, head)."""
    if rounds < 1:
        raise UsageError("--rounds", str(rounds), "must be >= 1")
    root = project_root()
    try:
        commit = _git(root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    except HarnessError as exc:
        raise UsageError("--interleave-with", ref, f"not a commit of {root} ({exc})") from None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = results_dir / f"interleave-{stamp}-{commit[:8]}"
    base, head = out / "base", out / "head"
    tmp = Path(tempfile.mkdtemp(prefix="harness-base-"))
    worktree = tmp / "checkout"
    _git(root, "worktree", "add", "--detach", str(worktree), commit)
    try:
        for i in range(rounds):
            order = [(worktree, base), (root, head)]
            for checkout, folder in order if i % 2 == 0 else reversed(order):
                _run_side(checkout, suite.resolve(), folder.resolve(), repeats, extra or [])
    finally:
        done = subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(worktree)],
                              capture_output=True, text=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)
        if done.returncode != 0:  # the folder is gone now: prune its entry, so no stale worktree is left
            log.warning("interleave: `git worktree remove` failed (%s); pruning the entry", done.stderr.strip())
            subprocess.run(["git", "-C", str(root), "worktree", "prune"], capture_output=True, timeout=120)
    return base, head
