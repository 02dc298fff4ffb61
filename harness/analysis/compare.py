"""Compare a baseline with a current set of results, case by case and metric by metric.

Cases are matched by their configuration (:data:`MATCH_AXES`), never by row
order or run id; the dataset's content hash and the environment (CPU and GPU
models, harness and TensorFlow versions) decide whether a matched pair may be
compared at all. Only repeats with status ``ok`` count. The per-metric decision
is :mod:`harness.analysis.decide`; the p-values of every comparison are
corrected together (Holm by default; see docs/regression.md for why).

This module only computes: loading is :mod:`harness.analysis.compare_inputs`,
rendering is :mod:`harness.report.compare_md`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness.analysis import decide, stats
from harness.analysis.decide import (
    IMPROVEMENT,
    INCONCLUSIVE,
    NO_CHANGE,
    NOT_COMPARABLE,
    REGRESSION,
    Settings,
)  # fmt: skip
from harness.analysis.gates import IMPLICIT_METRICS, METRICS, GateSet
from harness.errors import EXIT_INCONCLUSIVE, EXIT_OK, EXIT_REGRESSION

MATCH_AXES = (
    "optimizer", "optimizer_params", "schedule", "schedule_params", "strategy", "strategy_params",
    "device", "engine", "precision", "batch_size", "epochs", "learning_rate", "dataset", "dataset_params", "seed",
)  # fmt: skip
ENV_KEYS = ("cpu_model", "gpu_models", "harness_version", "tensorflow")


@dataclass
class Side:
    """One side of a comparison: rows shaped like the cases table, plus the run metadata."""

    name: str  # what the user passed (path or baseline name)
    cases: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    runs: tuple[str, ...] = ()  # run ids pooled into this side


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

    def exit_code(self, fail_on_inconclusive: bool = False) -> int:
        """0 nothing regressed, 1 a regression, 3 inconclusive/not comparable when asked."""
        if self.overall == REGRESSION:
            return EXIT_REGRESSION
        if fail_on_inconclusive and self.overall in (INCONCLUSIVE, NOT_COMPARABLE):
            return EXIT_INCONCLUSIVE
        return EXIT_OK

    def counts(self) -> dict[str, int]:
        return {v: int((self.rows["verdict"] == v).sum()) for v in decide.VERDICTS} if len(self.rows) else {}


# ---------------------------------------------------------------- keys and environment
def _norm(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "{[":
            try:
                return json.dumps(json.loads(text), sort_keys=True)
            except ValueError:
                return text
        return text
    if isinstance(value, (float, np.floating)):
        return repr(float(value)) if not float(value).is_integer() else str(int(value))
    return str(value)


def case_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    """The configuration a row belongs to, normalised (JSON params sorted, 1.0 == 1)."""
    return tuple(_norm(row.get(axis)) for axis in MATCH_AXES)


def case_name(row: Mapping[str, Any]) -> str:
    label = _norm(row.get("case_label"))
    if label:
        return label
    parts = [_norm(row.get("optimizer_label")) or _norm(row.get("optimizer")), _norm(row.get("schedule"))]
    parts += [_norm(row.get(k)) for k in ("engine", "device", "dataset")]
    return "/".join(p for p in parts if p) or "case"


def environment(meta: Mapping[str, Any]) -> dict[str, str | None]:
    """The parts of run.json that make two runs comparable (missing -> None)."""
    machine = meta.get("machine") or {}
    software = meta.get("software") or {}
    gpus = machine.get("gpus") or []
    names = sorted(
        str(g.get("name") or g.get("model") or g) if isinstance(g, Mapping) else str(g) for g in gpus
    )
    return {
        "cpu_model": machine.get("cpu_model") or None,
        "gpu_models": ", ".join(names) if names else ("none" if "gpus" in machine else None),
        "harness_version": meta.get("harness_version") or None,
        "tensorflow": software.get("tensorflow") or None,
    }


def env_differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Keys known on both sides whose values differ, as readable lines."""
    return [f"{k}: {a[k]!r} vs {b[k]!r}" for k in ENV_KEYS if a.get(k) and b.get(k) and a[k] != b[k]]


# ---------------------------------------------------------------- the comparison
def _ok_rows(df: pd.DataFrame) -> pd.DataFrame:
    status = df["status"].astype("string").fillna("ok") if "status" in df else None
    return df if status is None else df[status == "ok"]


def _group(df: pd.DataFrame) -> dict[tuple[str, ...], pd.DataFrame]:
    if df.empty:
        return {}
    positions: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(df.to_dict("records")):
        positions.setdefault(case_key(row), []).append(i)
    return {k: df.iloc[idx] for k, idx in positions.items()}


def _values(df: pd.DataFrame, metric: str) -> np.ndarray:
    if metric not in df:
        return np.array([])
    return pd.to_numeric(_ok_rows(df)[metric], errors="coerce").to_numpy(dtype=float)


def _status_note(df: pd.DataFrame) -> str:
    if "status" not in df:
        return ""
    counts = df["status"].astype("string").fillna("?").value_counts()
    bad = {k: int(v) for k, v in counts.items() if k != "ok"}
    return ", ".join(f"{v} {k}" for k, v in bad.items())


def contended_count(df: pd.DataFrame) -> tuple[int, int] | None:
    """(contended, measured) among the ok rows, or None when no row recorded contention."""
    if "contended" not in df:
        return None
    flags = _ok_rows(df)["contended"].astype("boolean").dropna()
    return (int(flags.sum()), len(flags)) if len(flags) else None


def _hashes(df: pd.DataFrame) -> set[str]:
    return {_norm(h) for h in df.get("dataset_hash", pd.Series(dtype="string"))} - {""}


def _ids(df: pd.DataFrame) -> set[str]:
    return {_norm(h) for h in df.get("case_id", pd.Series(dtype="string"))} - {""}


def _blocker(b: pd.DataFrame, c: pd.DataFrame, env_blocked: bool) -> str | None:
    """Why a matched pair may not be compared, or None."""
    if env_blocked:
        return "environment differs"
    if _hashes(b) and _hashes(c) and _hashes(b) != _hashes(c):
        return "dataset content differs (dataset_hash)"
    if _ids(b) and _ids(c) and _ids(b) != _ids(c):
        return "case_id differs: a setting outside the recorded axes changed (e.g. steps_per_execution)"
    return None


Pair = tuple[dict[str, Any], "decide.Assessment | None"]


def _pair(
    key: tuple[str, ...], b: pd.DataFrame, c: pd.DataFrame, gates: GateSet, settings: Settings,
    rng: np.random.Generator, blocker: str | None, skipped: set[str],
) -> list[Pair]:  # fmt: skip
    """One record (and assessment) per metric gate that applies to this matched case."""
    first = b.iloc[0].to_dict()
    out: list[Pair] = []
    for gate in gates.metrics:
        if not gate.matches(first):
            continue
        metric = METRICS[gate.metric]
        vb, vc = _values(b, gate.metric), _values(c, gate.metric)
        if not blocker and not np.isfinite(vb).any() and not np.isfinite(vc).any():
            skipped.add(gate.metric)
            continue
        rec = {
            "case": case_name(first), "case_key": json.dumps(dict(zip(MATCH_AXES, key, strict=True))),
            "metric": gate.metric, "statistic": gate.statistic,
            "higher_is_better": metric.higher_is_better, "unit": metric.unit,
            "threshold": gates.threshold_for(gate, first),
            "status_base": _status_note(b), "status_current": _status_note(c),
            "contended_base": contended_count(b), "contended_current": contended_count(c),
        }  # fmt: skip
        if blocker:
            out.append(({**rec, "verdict": NOT_COMPARABLE, "reason": blocker}, None))
            continue
        a = decide.assess(vb, vc, higher_is_better=metric.higher_is_better, statistic=gate.statistic,
                          settings=settings, rng=rng)  # fmt: skip
        rec.update({k: getattr(a, k) for k in decide.Assessment.__dataclass_fields__})
        out.append((rec, a))
    return out


def compare_sides(
    base: Side,
    current: Side,
    gates: GateSet | None = None,
    settings: Settings | None = None,
    *,
    allow_env_mismatch: bool = False,
) -> Comparison:
    """Match the two sides' cases and decide every (case, metric) pair."""
    gates = gates or GateSet.from_strings()
    gates.require_columns(base.cases, current.cases)
    settings = settings or Settings()
    env_b, env_c = environment(base.meta), environment(current.meta)
    diffs = env_differences(env_b, env_c)
    gb, gc = _group(base.cases), _group(current.cases)
    matched = [k for k in gb if k in gc]
    notes: list[str] = []
    if diffs:
        how = ": compared anyway (--allow-env-mismatch)" if allow_env_mismatch else ": not comparable"
        notes.append("environments differ (" + "; ".join(diffs) + ")" + how)
    rng = np.random.default_rng(settings.seed)
    skipped: set[str] = set()
    pairs: list[Pair] = []
    for key in matched:
        blocker = _blocker(gb[key], gc[key], bool(diffs) and not allow_env_mismatch)
        pairs += _pair(key, gb[key], gc[key], gates, settings, rng, blocker, skipped)
    notes += [f"{m}: not measured on either side, skipped" for m in sorted(skipped - set(IMPLICIT_METRICS))]
    rows = _finish([r for r, _ in pairs], [a for _, a in pairs], settings)
    only_b = sorted({case_name(gb[k].iloc[0].to_dict()) for k in gb if k not in gc})
    only_c = sorted({case_name(gc[k].iloc[0].to_dict()) for k in gc if k not in gb})
    if not matched:
        notes.append("no case of the current side matches a case of the baseline")
    return Comparison(rows, _overall(rows, matched), env_b, env_c, diffs, only_b, only_c, notes, settings, gates)


def _finish(
    records: list[dict[str, Any]], assessments: list[decide.Assessment | None], settings: Settings
) -> pd.DataFrame:
    """Correct the p-values over the whole family, then give each row its verdict."""
    correct = stats.CORRECTIONS[settings.correction]
    nan = float("nan")
    p_worse = np.array([a.p_worse if a else nan for a in assessments], dtype=float)
    p_better = np.array([a.p_better if a else nan for a in assessments], dtype=float)
    adj_w, adj_b = correct(p_worse), correct(p_better)
    for i, (rec, a) in enumerate(zip(records, assessments, strict=True)):
        rec["p_worse_adj"], rec["p_better_adj"] = adj_w[i], adj_b[i]
        if a is None:
            continue
        rec["verdict"], rec["reason"] = decide.verdict(
            a, higher_is_better=rec["higher_is_better"], threshold=rec["threshold"],
            p_worse_adj=adj_w[i], p_better_adj=adj_b[i], alpha=settings.alpha,
        )  # fmt: skip
    rows = pd.DataFrame.from_records(records)
    return rows.drop(columns=["early"], errors="ignore")


def _overall(rows: pd.DataFrame, matched: list) -> str:
    if not matched or rows.empty:
        return NOT_COMPARABLE
    verdicts = set(rows["verdict"])
    for v in (REGRESSION, NOT_COMPARABLE, INCONCLUSIVE, IMPROVEMENT):
        if v in verdicts:
            return INCONCLUSIVE if v == NOT_COMPARABLE and len(verdicts) > 1 else v
    return NO_CHANGE
