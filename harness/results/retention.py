"""Runs in commit order, and a bounded store: what ``harness history`` and ``harness prune`` use.

A run's place in history is its commit's time (``run.json`` ``git.commit_utc``,
recorded since issue 12), else the run's start (``started_utc``), then the run
folder's name. ``prune`` keeps the newest ``keep`` runs of a results folder and
deletes the older run folders (whole folders, never a part of one), so a
results store kept between CI jobs stays bounded.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from harness.errors import HarnessError, ResultsError
from harness.results import store
from harness.run_meta import RunMeta

log = logging.getLogger(__name__)


def order_key(run_id: str, meta: RunMeta) -> tuple[str, str, str]:
    """Sort key: commit time, else start time; then start time; then the folder name."""
    started = str(meta.started_utc or "")
    return str(meta.git.commit_utc or started), started, run_id


def runs_in_order(root: str | Path) -> list[tuple[Path, RunMeta]]:
    """(run folder, run.json) of every run under ``root``, oldest commit first.

    An empty folder or a damaged run.json is bad input (exit 2), named.
    """
    root = Path(root)
    if not root.is_dir():
        raise HarnessError(f"{root}: no such results folder")
    paths = store.find_runs(root)
    if not paths:
        raise HarnessError(f"{root}: holds no run (no folder with a run.json)")
    runs = []
    for path in paths:
        try:
            runs.append((path, store.read_run_json(path)))
        except ResultsError as exc:
            raise HarnessError(f"damaged run {path}: {exc}") from exc
    return sorted(runs, key=lambda r: order_key(r[0].name, r[1]))


def prune(root: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` runs under ``root`` (in commit order); the deleted folders."""
    if keep < 1:
        raise HarnessError(f"--keep must be >= 1. Received: keep={keep}")
    runs = runs_in_order(root)
    old = [path for path, _ in runs[: max(0, len(runs) - keep)]]
    for path in old:
        log.info("prune: removing %s", path)
        shutil.rmtree(path)
    return old
