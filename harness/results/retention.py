"""Runs in commit order, and a bounded store: what ``harness history`` and ``harness prune`` use.

A run's place in history is its commit's time (``run.json`` ``git.commit_utc``,
recorded since issue 12), else the run's start (``started_utc``), then the run
folder's name. ``prune`` keeps the newest ``keep`` runs of each suite on each
machine (:func:`group_of`) and deletes the older run folders (whole folders,
never a part of one), so a results store kept between CI jobs stays bounded
and one suite's or machine's runs never push out another's.
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


def group_of(meta: RunMeta) -> tuple[str, str]:
    """(suite name, machine) of a run: what history, ``prune`` and ``publish`` never mix.

    The machine is run.json's host, else its CPU model, else "unknown".
    """
    return meta.suite.name or "?", str(meta.machine.host or meta.machine.cpu_model or "unknown")


def prune_plan(root: str | Path, keep: int) -> dict[tuple[str, str], tuple[list[Path], list[Path]]]:
    """Per (suite, machine): (runs to remove, runs kept), each oldest first; nothing is deleted."""
    if keep < 1:
        raise HarnessError(f"--keep must be >= 1. Received: keep={keep}")
    groups: dict[tuple[str, str], list[Path]] = {}
    for path, meta in runs_in_order(root):
        groups.setdefault(group_of(meta), []).append(path)
    return {g: (paths[: max(0, len(paths) - keep)], paths[max(0, len(paths) - keep):])
            for g, paths in sorted(groups.items())}  # fmt: skip


def prune(root: str | Path, keep: int, dry_run: bool = False) -> dict[tuple[str, str], tuple[list[Path], list[Path]]]:
    """Delete all but the newest ``keep`` runs of each suite and machine under ``root`` (commit order).

    Returns :func:`prune_plan`'s plan; with ``dry_run`` nothing is deleted.
    """
    plan = prune_plan(root, keep)
    for old, _ in plan.values():
        for path in old if not dry_run else []:
            log.info("prune: removing %s", path)
            shutil.rmtree(path)
    return plan
