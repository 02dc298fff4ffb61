"""Load a results folder (or a baseline store) for ``harness history``: every run, in commit order.

Bad input is refused before anything is computed or written, with the folder
named (exit 2): an empty folder, a damaged run, runs of different suites mixed
(``suite`` picks one). Runs merged from shards (``harness merge``) are runs
like any other.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from harness.errors import HarnessError, ResultsError
from harness.regression.history import RunInfo
from harness.results import retention, store
from harness.run_meta import RunMeta

log = logging.getLogger(__name__)


def _suite_name(meta: RunMeta) -> str:
    return meta.suite.name or "?"


def load_history_runs(root: str | Path, suite: str | None = None) -> tuple[list[RunInfo], pd.DataFrame]:
    """(runs in commit order, every run's cases rows)."""
    ordered = retention.runs_in_order(root)
    names = sorted({_suite_name(meta) for _, meta in ordered})
    if suite is not None:
        ordered = [(p, m) for p, m in ordered if _suite_name(m) == suite]
        if not ordered:
            raise HarnessError(f"{root}: no run of suite {suite!r} (suites here: {', '.join(names)})")
    elif len(names) > 1:
        per = {n: sum(_suite_name(m) == n for _, m in ordered) for n in names}
        raise HarnessError(f"{root}: runs of different suites mixed ({', '.join(f'{n}: {k} runs' for n, k in per.items())}); "
                           "pick one with --suite NAME")  # fmt: skip
    runs, frames = [], []
    for path, meta in ordered:
        try:
            cases = _cases(path)
        except ResultsError as exc:
            raise HarnessError(f"damaged run {path}: {exc}") from exc
        if cases.empty:
            log.warning("%s: no results, left out of the history", path)
            continue
        when = retention.order_key(path.name, meta)[0]
        runs.append(RunInfo(path.name, meta.git.commit or "", when, meta))
        frames.append(cases.assign(run_id=path.name))
    if not runs:
        raise HarnessError(f"{root}: no run with results (every run's cases table is empty)")
    return runs, pd.concat(frames, ignore_index=True)


def _cases(path: Path) -> pd.DataFrame:
    """The run's cases table alone (the other tables are not needed here); the journal if it lags."""
    table = path / store.TABLE_FILES["cases"]
    if table.is_file():
        cases = store.read_table(table, "cases")
        if len(cases) >= store.count_parts(path):
            return cases
    return store.load_run(path).cases
