"""Compare a baseline with a current set of results, case by case and metric by metric.

Cases are matched by their full identity (:mod:`harness.regression.identity`),
never by row order or run id. Only repeats with status ``ok`` count. The
decision of the whole family is :func:`harness.regression.decide.decide_family`.

The gate fails closed: a case lost, a case newly failing, an environment that
differs or cannot be checked are :class:`Problem` s, each with its own exit
code, unless the caller relaxes that check (:class:`Relax`).

This module only computes: loading is :mod:`harness.regression.compare_inputs`,
rendering is :mod:`harness.report.compare_md`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness import schema
from harness.errors import (
    EXIT_CASE_LOST,
    EXIT_ENV_MISMATCH,
    EXIT_INCONCLUSIVE,
    EXIT_NEW_FAILURE,
    EXIT_OK,
    EXIT_REGRESSION,
    EXIT_UNREACHABLE,
)
from harness.regression import decide
from harness.regression.decide import (  # fmt: skip
    IMPROVEMENT,
    INCONCLUSIVE,
    NO_CHANGE,
    NOT_COMPARABLE,
    REGRESSION,
    Settings,
)
from harness.regression.gates import IMPLICIT_METRICS, METRICS, GateSet
from harness.regression.identity import (
    IDENTITY,
    MATCH_AXES,
    case_key,
    display_names,
    env_differences,
    env_unknown,
    environment,
    flag_note,
    group_cases,
    key_json,
    norm,
)
from harness.run_meta import RunMeta

__all__ = ["IDENTITY", "MATCH_AXES", "Comparison", "Problem", "Relax", "Side", "case_key", "compare_sides",
           "environment"]  # fmt: skip

FAILING = schema.FAILING


@dataclass
class Side:
    """One side of a comparison: rows shaped like the cases table, plus the run metadata."""

    name: str  # what the user passed (path or baseline name)
    cases: pd.DataFrame
    meta: RunMeta = field(default_factory=RunMeta)
    runs: tuple[str, ...] = ()  # run ids pooled into this side


@dataclass(frozen=True)
class Relax:
    """Checks the user chose to relax (each fails the gate by default)."""

    missing_cases: bool = False
    new_failures: bool = False
    env: bool = False


@dataclass(frozen=True)
class Problem:
    """Why the gate fails closed: its exit code and a message."""

    code: int
    kind: str
    message: str


@dataclass
class Comparison:
    rows: pd.DataFrame
    overall: str
    env_base: dict[str, str | None]
    env_current: dict[str, str | None]
    env_differences: list[str]
    only_baseline: list[str]
    only_current: list[str]
    notes: list[str]
    settings: Settings
    gates: GateSet
    problems: list[Problem] = field(default_factory=list)
    family: int = 0  # gated comparisons (the Holm family)
    unreachable: bool = False  # some gated comparison cannot reach a verdict with these repeats

    def exit_code(self, fail_on_inconclusive: bool = False, fail_on_unreachable: bool = False) -> int:
        """Environment 8 > regression 1 > newly failing 7 > case lost 6 > cannot decide 5 > inconclusive 3."""
        codes = {p.code for p in self.problems}
        if EXIT_ENV_MISMATCH in codes:
            return EXIT_ENV_MISMATCH
        if self.overall == REGRESSION:
            return EXIT_REGRESSION
        for code in (EXIT_NEW_FAILURE, EXIT_CASE_LOST):
            if code in codes:
                return code
        if self.unreachable and (fail_on_unreachable or fail_on_inconclusive):
            return EXIT_UNREACHABLE
        if fail_on_inconclusive and self.overall in (INCONCLUSIVE, NOT_COMPARABLE):
            return EXIT_INCONCLUSIVE
        return EXIT_OK

    def counts(self) -> dict[str, int]:
        gated = self.gated_rows()
        return {v: int((gated["verdict"] == v).sum()) for v in decide.VERDICTS} if len(gated) else {}

    def gated_rows(self) -> pd.DataFrame:
        return self.rows[self.rows["gated"]] if len(self.rows) else self.rows


# ---------------------------------------------------------------- per case
def _ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    status = df["status"].astype("string").fillna("ok") if "status" in df else None
    return df if status is None else df[status == "ok"]


def _values(df: pd.DataFrame, metric: str) -> np.ndarray:
    if metric not in df:
        return np.array([])
    return pd.to_numeric(_ok_rows(df)[metric], errors="coerce").to_numpy(dtype=float)


def _statuses(df: pd.DataFrame) -> dict[str, int]:
    if "status" not in df:
        return {}
    return {str(k): int(v) for k, v in df["status"].astype("string").fillna("?").value_counts().items()}


def _status_note(df: pd.DataFrame) -> str:
    return ", ".join(f"{v} {k}" for k, v in _statuses(df).items() if k != "ok")


def contended_count(df: pd.DataFrame) -> tuple[int, int] | None:
    """(contended, measured) among the ok rows, or None when no row recorded contention."""
    if "contended" not in df:
        return None
    flags = _ok_rows(df)["contended"].astype("boolean").dropna()
    return (int(flags.sum()), len(flags)) if len(flags) else None


def _hashes(df: pd.DataFrame) -> set[str]:
    return {norm(h) for h in df.get("dataset_hash", pd.Series(dtype="string"))} - {""}


def _blocker(b: pd.DataFrame, c: pd.DataFrame, env_blocked: bool) -> str | None:
    """Why a matched pair may not be compared, or None."""
    if env_blocked:
        return "environment differs or is unknown"
    if _hashes(b) and _hashes(c) and _hashes(b) != _hashes(c):
        return "dataset content differs (dataset_hash)"
    return None


def _records(
    name: str, key: tuple[str, ...], b: pd.DataFrame, c: pd.DataFrame, gates: GateSet,
    blocker: str | None, skipped: set[str],
) -> list[tuple[dict[str, Any], decide.Item]]:  # fmt: skip
    """One record and decision item per metric (gated or reported) that applies to this case."""
    first = c.iloc[0].to_dict()
    out = []
    for gated, gate in [(True, g) for g in gates.metrics] + [(False, g) for g in gates.reported]:
        if not gate.matches(first):
            continue
        metric = METRICS[gate.metric]
        vb, vc = _values(b, gate.metric), _values(c, gate.metric)
        if not _measured(b, gate.metric) and not _measured(c, gate.metric):
            skipped.add(gate.metric)
            continue
        threshold = gates.threshold_for(gate, first)
        rec = {
            "case": name, "case_id": key[0], "case_key": key_json(key), "metric": gate.metric,
            "gated": gated, "statistic": gate.statistic, "higher_is_better": metric.higher_is_better,
            "unit": metric.unit, "threshold": threshold,
            "status_base": _status_note(b), "status_current": _status_note(c),
            "flags_base": flag_note(b), "flags_current": flag_note(c),
            "contended_base": contended_count(b), "contended_current": contended_count(c),
        }  # fmt: skip
        out.append((rec, decide.Item(vb, vc, metric.higher_is_better, threshold, gate.statistic, blocker)))
    return out


def _measured(df: pd.DataFrame, metric: str) -> bool:
    """Any finite value in any row: a metric never measured (energy without collectors) is skipped."""
    return metric in df and bool(np.isfinite(pd.to_numeric(df[metric], errors="coerce").to_numpy(float)).any())


def _decide(pairs: list[tuple[dict[str, Any], decide.Item]], settings: Settings) -> tuple[list[dict], bool]:
    """Decide the gated family and, separately, the report-only one; (records, any unreachable)."""
    unreachable = False
    for gated in (True, False):
        chosen = [(r, it) for r, it in pairs if r["gated"] == gated]
        for (rec, _), d in zip(chosen, decide.decide_family([it for _, it in chosen], settings), strict=True):
            a = d.assessment
            rec.update({k: getattr(a, k) for k in decide.Assessment.__dataclass_fields__ if k != "early"})
            rec.update(verdict=d.verdict, reason=d.reason, p_worse_adj=d.p_worse_adj,
                       p_better_adj=d.p_better_adj, reachable=d.reachable, family=len(chosen))  # fmt: skip
            unreachable |= gated and not d.reachable
    return [r for r, _ in pairs], unreachable


# ---------------------------------------------------------------- the comparison
def _env_check(base: Side, current: Side, relax: Relax) -> tuple[list[str], list[Problem], list[str]]:
    env_b, env_c = environment(base.meta), environment(current.meta)
    diffs, unknown = env_differences(env_b, env_c), env_unknown(env_b, env_c)
    if not (diffs or unknown):
        return [], [], []
    text = "; ".join(diffs + unknown)
    if relax.env:
        return diffs, [], [f"environments differ or are unknown ({text}): compared anyway (--allow-env-mismatch)"]
    msg = f"environments differ or are unknown ({text}): not comparable; --allow-env-mismatch compares anyway"
    return diffs, [Problem(EXIT_ENV_MISMATCH, "environment", msg)], [msg]


def _case_problems(gb: dict, gc: dict, names: dict, relax: Relax) -> tuple[list[Problem], list[str]]:
    problems, notes = [], []
    lost = sorted(names[k] for k in gb if k not in gc)
    if lost:
        msg = f"case(s) lost (in the baseline, not in the current results): {', '.join(lost)}"
        (notes if relax.missing_cases else problems).append(
            msg + " (--allow-missing-cases)" if relax.missing_cases else Problem(EXIT_CASE_LOST, "lost", msg))
    newly = []
    for k, c in gc.items():
        bad = set(_statuses(c)) & set(FAILING)
        known = set(_statuses(gb[k])) & set(FAILING) if k in gb else set()
        if bad - known:
            newly.append(f"{names[k]} ({_status_note(c)})")
    if newly:
        msg = f"case(s) newly failing: {', '.join(newly)}"
        (notes if relax.new_failures else problems).append(
            msg + " (--allow-new-failures)" if relax.new_failures else Problem(EXIT_NEW_FAILURE, "failing", msg))
    return problems, notes


def compare_sides(
    base: Side, current: Side, gates: GateSet | None = None, settings: Settings | None = None,
    *, relax: Relax | None = None,
) -> Comparison:  # fmt: skip
    """Match the two sides' cases and decide every (case, metric) pair of the family."""
    gates = gates or GateSet.from_strings()
    gates.require_columns(base.cases, current.cases)
    settings = settings or Settings()
    relax = relax or Relax()
    diffs, problems, notes = _env_check(base, current, relax)
    gb, gc = group_cases(base.cases), group_cases(current.cases)
    names = display_names({**gb, **gc})
    case_problems, case_notes = _case_problems(gb, gc, names, relax)
    problems += case_problems
    notes += case_notes
    matched = [k for k in gb if k in gc]
    skipped: set[str] = set()
    pairs = []
    env_blocked = any(p.code == EXIT_ENV_MISMATCH for p in problems)
    for key in matched:
        blocker = _blocker(gb[key], gc[key], env_blocked)
        pairs += _records(names[key], key, gb[key], gc[key], gates, blocker, skipped)
    # an engine records step_ms_* or chunk_ms_* (harness.timing_names): the other is absent by design
    by_kind = {g.metric for g in gates.reported} & {"step_ms_p50", "chunk_ms_p50"}
    notes += [f"{m}: not measured on either side, skipped"
              for m in sorted(skipped - set(IMPLICIT_METRICS) - by_kind)]
    records, unreachable = _decide(pairs, settings)
    rows = pd.DataFrame.from_records(records)
    if not matched:
        notes.append("no case of the current side matches a case of the baseline")
    family = sum(1 for r in records if r["gated"])
    return Comparison(
        rows, _overall(rows), environment(base.meta), environment(current.meta), diffs,
        sorted(names[k] for k in gb if k not in gc), sorted(names[k] for k in gc if k not in gb),
        notes, settings, gates, problems, family, unreachable,
    )  # fmt: skip


def _overall(rows: pd.DataFrame) -> str:
    gated = rows[rows["gated"]] if len(rows) else rows
    if gated.empty:
        return NOT_COMPARABLE
    verdicts = set(gated["verdict"])
    if REGRESSION in verdicts:
        return REGRESSION
    if verdicts == {NOT_COMPARABLE}:
        return NOT_COMPARABLE
    if verdicts & {NOT_COMPARABLE, INCONCLUSIVE}:
        return INCONCLUSIVE
    return IMPROVEMENT if IMPROVEMENT in verdicts else NO_CHANGE
