"""The site's data (analysis side): runs found, grouped by suite x machine, each group's history judged.

Runs of different suites are never merged, nor runs of different machines (a
machine is ``run.json``'s host, else its CPU model: :func:`harness.results.retention.group_of`): every (suite, machine)
group is one :func:`harness.regression.history.analyse`, with the gates of the
suite's ``[gate]`` table as ``harness history`` uses them. What the pages need
is copied out into plain records (:class:`RunRecord`, :class:`SeriesView`), so
the renderers never touch a DataFrame.

A damaged run is skipped with a warning naming it (``strict``: refused, exit 2);
an empty or missing folder is bad input (exit 2).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from harness.errors import HarnessError, ResultsError
from harness.regression.compare_inputs import suite_gate
from harness.regression.decide import Settings
from harness.regression.gates import METRICS, GateSet
from harness.regression.identity import IDENTITY
from harness.results import retention, store
from harness.run_meta import RunMeta
from harness.site import paths

log = logging.getLogger(__name__)
AXES = tuple(a for a in IDENTITY if a != "case_id")
# The columns of a cases row the site's history reads: the identity, the names, the status, the
# metrics a gate can follow, and the axes a gate's selector may name. Reading these alone keeps a
# publish of 200 runs fast (the cases table has ~150 columns).
COLUMNS = (*IDENTITY, "run_id", "suite", "case_label", "optimizer_label", "schedule_label", "status", "profiled",
           "num_replicas", "num_workers", "per_replica_batch_size", "collectors", "host", "machine", *METRICS)


@dataclass(frozen=True)
class RunRecord:
    """One run as the site shows it. Times are ISO 8601 UTC strings ('' when unknown)."""

    key: str  # unique in the site (the folder name; suffixed when two folders share it)
    path: Path
    suite: str
    machine: str
    commit: str
    commit_utc: str
    started_utc: str
    fingerprint: str  # changes when the run's files change (sizes and mtimes)

    @property
    def page(self) -> str:
        return paths.run_page(self.key)

    @property
    def when(self) -> str:
        """Where the run stands in history: its commit's time, else its start."""
        return self.commit_utc or self.started_utc


@dataclass
class Point:
    """One run of a series: every ok repeat's value and their median (in the metric's unit)."""

    run: RunRecord
    values: list[float]
    median: float


@dataclass
class Step:
    """A judged step: ``verdict`` regression / improvement, or pending (too few runs after it to decide)."""

    verdict: str
    change: float  # relative change of the median (+0.12: 12 % higher)
    run: RunRecord  # the first run after the step
    previous: RunRecord  # the last run before it
    n_before: int
    n_after: int
    reason: str = ""


@dataclass
class SeriesView:
    """One case x metric of one suite on one machine."""

    suite: str
    machine: str
    case_id: str
    case_label: str
    metric: str
    unit: str
    higher_is_better: bool
    axes: dict[str, str]
    points: list[Point]
    steps: list[Step] = field(default_factory=list)

    @property
    def page(self) -> str:
        return paths.series_page(self.suite, self.case_id, self.case_label, self.metric)

    @property
    def change_points(self) -> list[Step]:
        return [s for s in self.steps if s.verdict != "pending"]


@dataclass
class SiteData:
    runs: list[RunRecord]
    series: list[SeriesView]
    skipped: list[str]  # damaged runs left out, with the reason


def fingerprint(path: Path) -> str:
    """What a run's pages are made from: SHA-256 of run.json and the cases table, sizes of the other tables.

    Contents, not modification times: a results store checked out anew (a CI job restoring
    a branch) keeps its fingerprints, so the next publish stays incremental.
    """
    digest = hashlib.sha256()
    for name in (store.RUN_JSON, *store.TABLE_FILES.values()):
        f = path / name
        if not f.is_file():
            continue
        if name in (store.RUN_JSON, store.TABLE_FILES["cases"]):
            digest.update(f.read_bytes())
        digest.update(f"{name}:{f.stat().st_size};".encode())
    return f"{digest.hexdigest()[:32]};parts:{store.count_parts(path)}"


def scan(roots: list[Path], strict: bool = False) -> tuple[list[tuple[RunRecord, Any]], list[str]]:
    """(run, run.json) of every readable run under ``roots``, and the damaged ones skipped."""
    found, skipped, seen = [], [], set()
    for root in roots:
        if not Path(root).is_dir():
            raise HarnessError(f"{root}: no such results folder")
        folders = store.find_runs(root)
        if not folders:
            raise HarnessError(f"{root}: holds no run (no folder with a run.json)")
        for path in folders:
            try:
                meta = store.read_run_json(path)
            except ResultsError as exc:
                if strict:
                    raise HarnessError(f"damaged run {path}: {exc}") from exc
                log.warning("skipping damaged run %s: %s", path, exc)
                skipped.append(f"{path}: {exc}")
                continue
            key = path.name if path.name not in seen else f"{path.name}~{len(seen)}"
            seen.add(key)
            found.append((_record(key, path, meta), meta))
    return found, skipped


def _record(key: str, path: Path, meta: RunMeta) -> RunRecord:
    suite, machine = retention.group_of(meta)
    return RunRecord(key=key, path=path, suite=suite, machine=machine,
                     commit=meta.git.commit or "", commit_utc=meta.git.commit_utc or "",
                     started_utc=meta.started_utc or "", fingerprint=fingerprint(path))  # fmt: skip


def read_cases(path: Path) -> pd.DataFrame:
    """The run's cases rows (the journal when the table lags behind it), as ``harness history`` reads them,
    reduced to :data:`COLUMNS`."""
    table = path / store.TABLE_FILES["cases"]
    cases = None
    if table.is_file():
        cases = store.read_table(table, "cases")
        if len(cases) < store.count_parts(path):
            cases = None
    if cases is None:
        cases = store.load_run(path).cases
    return cases[[c for c in COLUMNS if c in cases.columns]].reset_index(drop=True)


def gates_of(meta: Any) -> tuple[GateSet, Settings]:
    """The suite's ``[gate]`` metrics, thresholds and alpha, as ``harness history`` takes them."""
    table = suite_gate(meta)
    thresholds = [table["threshold"]] if "threshold" in table else []
    gates = GateSet.from_strings(list(table.get("metrics", [])), thresholds, primary=table.get("primary"), report=False)
    return gates, Settings(alpha=float(table.get("alpha", 0.05)), min_repeats=2)
