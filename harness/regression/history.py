"""Performance history across commits: change points per case and metric, judged like ``compare``.

For every case (full identity) and gated metric, the runs ordered by commit
(:mod:`harness.results.retention`) give a series of per-run medians. A
maintained change-point library, ``ruptures`` (PELT on the log medians, a
BIC-like penalty scaled by the run-to-run noise), proposes steps; each step is
then judged with the decision of ``harness compare``
(:func:`harness.regression.decide.decide_family`): the runs of the segment before
and of the segment after are the two samples, **one value per run** (runs made
in different jobs differ by more than their repeats say, so a run, not a
repeat, is the unit), and every proposed step of every series is one family
(Holm). The steps are chosen and judged on the same runs, so each step's
p-values are multiplied by its **selection factor** (Bonferroni over the
positions PELT could have chosen in the step's segment, :func:`candidate_positions`:
17 for one step in 20 runs): without it, a true step of exactly the threshold
was called a regression in 16-20 % of histories at CV 5 % (PELT puts the step
where the difference looks largest); with it, in at most alpha
(``scripts/history_characteristics.py``, the table in docs/regression.md). Only
steps the data show to exceed the threshold are change points; a history with
no real change reports none. A step can be decided once the runs on its two
sides allow it: its factor times 1 / C(before + after, after), corrected with
the family, must be below alpha; before that it is *pending*. Proposed steps
that the data cannot confirm are merged away one at a time (the smallest
first) and their neighbours judged again on the longer segments.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import ruptures

from harness.regression.decide import IMPROVEMENT, REGRESSION, Item, Settings, decide_family
from harness.regression.gates import METRICS, GateSet
from harness.regression.identity import display_names, env_differences, environment, group_cases
from harness.regression.stats import MAD_TO_SD
from harness.run_meta import RunMeta

MIN_SIZE = 2  # runs a segment at least (PELT's min_size)


@dataclass
class RunInfo:
    run_id: str
    commit: str  # "" when unknown
    when: str  # commit time, else start time
    meta: RunMeta = field(repr=False, default_factory=lambda: RunMeta.from_dict({}))

    def __post_init__(self) -> None:  # a plain run.json object (tests, simulations) is read as one
        if not isinstance(self.meta, RunMeta):
            self.meta = RunMeta.from_dict(self.meta)


@dataclass
class Series:
    """One case x metric over the runs: the ok repeats of each run (empty where it did not run)."""

    case_id: str
    case_label: str
    metric: str
    higher_is_better: bool
    threshold: float
    runs: list[int]  # indices into History.runs, in order
    values: list[np.ndarray]

    @cached_property
    def medians(self) -> np.ndarray:
        """Per-run medians (computed once: ``values`` is not changed after construction)."""
        return np.array([float(np.median(v)) for v in self.values])


@dataclass
class History:
    runs: list[RunInfo]
    series: list[Series]
    steps: pd.DataFrame  # every proposed step, judged (verdict regression / improvement / other)
    settings: Settings

    @property
    def change_points(self) -> pd.DataFrame:
        if not len(self.steps):
            return self.steps
        return self.steps[self.steps["kept"] & self.steps["verdict"].isin([REGRESSION, IMPROVEMENT])]

    def pending(self) -> pd.DataFrame:
        """Steps after a series' last change point that too few runs follow to decide yet."""
        if not len(self.steps):
            return self.steps
        cps = self.change_points
        last = cps.groupby(["case_key", "metric"])["position"].max().to_dict() if len(cps) else {}
        late = [p > last.get((k, m), -1) for k, m, p in zip(self.steps["case_key"], self.steps["metric"],
                                                            self.steps["position"], strict=True)]  # fmt: skip
        return self.steps[~self.steps["reachable"].astype(bool) & pd.Series(late, index=self.steps.index)]

    def shown(self) -> pd.DataFrame:
        """What the outputs list: the change points and the pending steps, in order."""
        if not len(self.steps):
            return self.steps
        both = pd.concat([self.change_points, self.pending()])
        return both[~both.index.duplicated()].sort_values(["case_key", "metric", "position"], kind="stable")

    def newest_is_regression(self) -> list[str]:
        """Series whose newest change point is a regression (what makes `harness history` exit 1)."""
        cps = self.change_points
        if cps.empty:
            return []
        newest = cps.sort_values("position").groupby(["case_key", "metric"], sort=False).tail(1)
        bad = newest[newest["verdict"] == REGRESSION]
        return [f"{r.case_label} {r.metric}" for r in bad.itertuples()]


def build_series(cases: pd.DataFrame, run_index: dict[str, int], gates: GateSet) -> list[Series]:
    """Series of every case (full identity) x gated metric; only ok repeats with finite values."""
    groups = group_cases(cases)
    names = display_names(groups)
    out = []
    for key, df in groups.items():
        ok = df[df["status"].astype("string").fillna("ok") == "ok"] if "status" in df else df
        first = df.iloc[0].to_dict()
        for gate in gates.metrics:
            if gate.metric not in df or not gate.matches(first):
                continue
            runs, values = [], []
            for run_id, g in ok.groupby("run_id", sort=False):
                v = pd.to_numeric(g[gate.metric], errors="coerce").to_numpy(float)
                v = v[np.isfinite(v) & (v > 0)]
                if v.size:
                    runs.append(run_index[str(run_id)])
                    values.append(v)
            if runs:
                order = np.argsort(runs, kind="stable")
                out.append(Series(key[0], names[key], gate.metric, METRICS[gate.metric].higher_is_better,
                                  gates.threshold_for(gate, first), [runs[i] for i in order],
                                  [values[i] for i in order]))  # fmt: skip
    return out


class _PrefixL2(ruptures.base.BaseCost):
    """ruptures' ``l2`` cost (a segment's sum of squared deviations) from prefix sums: O(1) a segment.

    The same cost as ``CostL2`` (``var * length``); ruptures' own recomputes the
    variance of every candidate segment, which dominated the history's time.
    """

    model = "l2_prefix"
    min_size = 1

    def fit(self, signal: np.ndarray) -> _PrefixL2:
        y = np.asarray(signal, dtype=float).ravel()
        self.signal = y.reshape(-1, 1)  # ruptures reads the length from it
        self._s = np.concatenate([[0.0], np.cumsum(y)])
        self._q = np.concatenate([[0.0], np.cumsum(y * y)])
        return self

    def error(self, start: int, end: int) -> float:
        n = end - start
        if n < self.min_size:
            raise ruptures.exceptions.NotEnoughPoints
        total = self._s[end] - self._s[start]
        return max(0.0, float(self._q[end] - self._q[start] - total * total / n))


def propose_steps(medians: np.ndarray, min_size: int = MIN_SIZE) -> list[int]:
    """Candidate change points (index of the first run after a step) from ruptures' PELT."""
    y = np.log(medians)
    if y.size < 2 * min_size:
        return []
    noise = MAD_TO_SD * float(np.median(np.abs(np.diff(y) - np.median(np.diff(y))))) / math.sqrt(2)
    noise = max(noise, 1e-4)  # a near-constant series: 0.01 % still scales the penalty
    algo = ruptures.Pelt(custom_cost=_PrefixL2(), min_size=min_size, jump=1).fit(y / noise)
    return [int(b) for b in algo.predict(pen=3.0 * math.log(y.size))[:-1]]


def candidate_positions(lo: int, hi: int, min_size: int = MIN_SIZE) -> int:
    """Where PELT could have put a step in runs [lo, hi): the selection factor of the step's test."""
    return max(1, hi - lo - 2 * min_size + 1)


def _step_record(s: Series, runs: list[RunInfo], at: int, lo: int, hi: int) -> dict[str, Any]:
    med = s.medians
    before, after = med[lo:at], med[at:hi]
    first, last = runs[s.runs[at]], runs[s.runs[at - 1]]
    diffs = env_differences(environment(last.meta), environment(first.meta))
    return {
        "case_id": s.case_id, "case_label": s.case_label, "case_key": f"{s.case_id}|{s.case_label}",
        "metric": s.metric, "run_id": first.run_id, "commit": first.commit, "previous_run_id": last.run_id,
        "previous_commit": last.commit, "position": s.runs[at], "change": float(np.median(after) / np.median(before) - 1),
        "n_before": int(before.size), "n_after": int(after.size), "threshold": s.threshold,
        "environment_changed": "; ".join(diffs), "selection": candidate_positions(lo, hi),
    }  # fmt: skip


def _judge_once(series: Sequence[Series], cps: list[list[int]], runs: list[RunInfo],
                settings: Settings) -> list[list[dict[str, Any]]]:  # fmt: skip
    """Decide every step of every series as one family; records grouped by series."""
    records, items, owner = [], [], []
    for k, s in enumerate(series):
        bounds = [0, *cps[k], len(s.runs)]
        med = s.medians
        for i, at in enumerate(cps[k]):
            lo, hi = bounds[i], bounds[i + 2]
            records.append(_step_record(s, runs, at, lo, hi))
            items.append(Item(med[lo:at], med[at:hi], s.higher_is_better, s.threshold,
                              selection=candidate_positions(lo, hi)))  # fmt: skip
            owner.append(k)
    out: list[list[dict[str, Any]]] = [[] for _ in series]
    for rec, d, k in zip(records, decide_family(items, settings), owner, strict=True):
        p_adj = d.p_better_adj if d.verdict == IMPROVEMENT else d.p_worse_adj
        rec.update(verdict=d.verdict, reason=("pending: " if not d.reachable else "") + d.reason,
                   p_adj=p_adj, reachable=d.reachable)  # fmt: skip
        out[k].append(rec)
    return out


def judge(series: Sequence[Series], runs: list[RunInfo], settings: Settings) -> pd.DataFrame:
    """Proposed steps, pruned until every remaining one is decided (runs as the units).

    A step the data cannot confirm is merged away (the smallest one of its series
    first) and the neighbours are judged again on their longer segments, so one
    spurious split cannot leave a real step "pending". Steps dropped this way
    are kept in the table with their last judgement (``kept`` False).
    """
    decided = (REGRESSION, IMPROVEMENT)
    cps = [propose_steps(s.medians) for s in series]
    dropped: list[dict[str, Any]] = []
    while True:
        judged = _judge_once(series, cps, runs, settings)
        changed = False
        for k, recs in enumerate(judged):
            weak = [r for r in recs if r["verdict"] not in decided]
            if weak:
                worst = min(weak, key=lambda r: abs(math.log1p(r["change"])))
                cps[k] = [c for c, r in zip(cps[k], recs, strict=True) if r is not worst]
                dropped.append({**worst, "kept": False})
                changed = True
        if not changed:
            break
    records = [{**r, "kept": True} for recs in judged for r in recs] + dropped
    cols = ["case_id", "case_label", "metric", "run_id", "commit", "change", "verdict", "position", "case_key", "kept"]
    return pd.DataFrame.from_records(records) if records else pd.DataFrame(columns=cols)


def analyse(runs: list[RunInfo], cases: pd.DataFrame, gates: GateSet, settings: Settings) -> History:
    """The history of ``cases`` (every run's rows, ``run_id`` naming ``runs``) under ``gates``."""
    gates.require_columns(cases)  # a metric named with --metric that no run has: exit 2, named
    index = {r.run_id: i for i, r in enumerate(runs)}
    series = build_series(cases, index, gates)
    return History(runs, series, judge(series, runs, settings), settings)
