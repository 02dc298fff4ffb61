"""Group the runs found by suite x machine, judge each group's history, and copy out the site's records.

``cases_of`` gives a run's cases rows (from the runs' files, or from the
previous site's cache when the run did not change: :mod:`harness.site.publish`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from harness.errors import HarnessError, ResultsError
from harness.regression.gates import METRICS
from harness.regression.history import History, RunInfo, analyse
from harness.regression.identity import IDENTITY, case_key, display_names, norm
from harness.results import retention
from harness.schema import units
from harness.site.data import AXES, Point, RunRecord, SeriesView, SiteData, Step, gates_of

log = logging.getLogger(__name__)
CaseSource = Callable[[RunRecord], pd.DataFrame]


def collect(found: list[tuple[RunRecord, Any]], cases_of: CaseSource, skipped: list[str],
            strict: bool = False) -> SiteData:  # fmt: skip
    """Every (suite, machine) group's series; groups and series in a stable order."""
    groups: dict[tuple[str, str], list[tuple[RunRecord, Any, pd.DataFrame]]] = {}
    for run, meta in found:
        try:
            cases = cases_of(run)
        except ResultsError as exc:
            if strict:
                raise HarnessError(f"damaged run {run.path}: {exc}") from exc
            log.warning("skipping damaged run %s: %s", run.path, exc)
            skipped.append(f"{run.path}: {exc}")
            continue
        if cases.empty:
            log.warning("%s: no results, left out of the site", run.path)
            continue
        groups.setdefault((run.suite, run.machine), []).append((run, meta, cases))
    if not groups:
        raise HarnessError("no run with results to publish (every run is empty or damaged)")
    runs, series = [], []
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda m: retention.order_key(m[0].key, m[1]))
        runs += [m[0] for m in members]
        series += _group_series(members)
    return SiteData(runs, series, skipped)


def _group_series(members: list[tuple[RunRecord, Any, pd.DataFrame]]) -> list[SeriesView]:
    infos = [RunInfo(r.key, r.commit, r.when, meta) for r, meta, _ in members]
    cases = pd.concat([c.assign(run_id=r.key) for r, _, c in members], ignore_index=True)
    gates, settings = gates_of(members[-1][1])
    hist = analyse(infos, cases, gates, settings)
    by_key = {r.key: r for r, _, _ in members}
    return views(hist, cases, by_key)


def _axes(cases: pd.DataFrame) -> dict[tuple[str, str], dict[str, str]]:
    """(case_id, display name) -> the case's axis values, named as history names its series.

    ``display_names`` reads the first row of each case only, so one row per distinct identity will do.
    """
    subset = [c for c in IDENTITY if c in cases.columns]
    firsts: dict[tuple[str, ...], pd.DataFrame] = {}
    for row in cases.drop_duplicates(subset=subset).to_dict("records"):
        firsts.setdefault(case_key(row), pd.DataFrame([row]))
    names = display_names(firsts)
    out = {}
    for key, df in firsts.items():
        row = df.iloc[0].to_dict()
        out[(key[0], names[key])] = {a: norm(row.get(a)) for a in AXES if norm(row.get(a))}
    return out


def views(hist: History, cases: pd.DataFrame, runs: dict[str, RunRecord]) -> list[SeriesView]:
    """The series of one group's history as site records (steps: change points and pending ones)."""
    axes = _axes(cases)
    unit_of = units("cases")
    shown = hist.shown()
    out = []
    for s in hist.series:
        run0 = runs[hist.runs[s.runs[0]].run_id]
        points = [Point(runs[hist.runs[i].run_id], [float(x) for x in v], float(np.median(v)))
                  for i, v in zip(s.runs, s.values, strict=True)]  # fmt: skip
        mine = shown[(shown["case_id"] == s.case_id) & (shown["case_label"] == s.case_label)
                     & (shown["metric"] == s.metric)] if len(shown) else shown  # fmt: skip
        steps = [_step(r, runs) for r in mine.to_dict("records")]
        metric = METRICS.get(s.metric)
        out.append(SeriesView(run0.suite, run0.machine, s.case_id, s.case_label, s.metric, unit_of.get(s.metric, ""),
                              metric.higher_is_better if metric else s.higher_is_better,
                              axes.get((s.case_id, s.case_label), {}), points, steps))  # fmt: skip
    return out


def _step(r: dict[str, Any], runs: dict[str, RunRecord]) -> Step:
    reachable = bool(r.get("reachable", True))
    return Step(verdict=str(r["verdict"]) if reachable else "pending", change=float(r["change"]),
                run=runs[str(r["run_id"])], previous=runs[str(r["previous_run_id"])],
                n_before=int(r.get("n_before", 0)), n_after=int(r.get("n_after", 0)),
                reason=str(r.get("reason", "")))  # fmt: skip
