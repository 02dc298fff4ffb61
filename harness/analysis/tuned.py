"""The tuned comparison's tables (report section ``tuned``; ``tuned.csv`` in ``--format csv``).

Per problem x optimizer x budget: the winner (selected on validation only, the
rules of :mod:`harness.analysis.tuning`), its final seeds' validation and test
accuracy (median, min–max), time and energy to the validation target over the
final seeds, the tuning's cost (wall time and energy of the budget's trials),
tuneability (the share of the budget's trials that reached the target), and
the ranking of the final seeds' test accuracy (exact one-sided rank-sum tests,
Holm over the problem's pairs: better / worse / tied; ``rank`` = 1 + the
optimizers significantly better). Also the trials themselves (sensitivity)
and the expected best validation accuracy for k = 1 ... N trials (Dodge et al.).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from harness.analysis.tuning import OPTIMIZER, expected_best, problems, ranking, ranks, select

TABLES = ("tuned", "tuned_trials", "tuned_expected", "tuned_ranking")


def tuning_settings(metas: list[Any]) -> dict[str, Any]:
    """select_on and budgets from the first run.json ``tuning`` record among ``metas`` ({} when none)."""
    for meta in metas:
        record = getattr(meta, "tuning", None)
        if record is not None:
            return {"select_on": record.select_on, "budgets": record.budgets}
    return {}


def tuned_tables(cases: pd.DataFrame, settings: Mapping[str, Any] | None = None) -> dict[str, pd.DataFrame]:
    """The section's tables; empty frames when no row is a trial."""
    empty = {name: pd.DataFrame() for name in TABLES}
    if "stage" not in cases.columns or not cases["stage"].astype(str).eq("trial").any():
        return empty
    trials = cases[cases["stage"].astype(str).eq("trial")]
    settings = dict(settings or {})
    select_on = settings.get("select_on", "validation_accuracy")
    budgets = list(settings.get("budgets") or [int(trials["trial"].max()) + 1])
    names = _problem_names(trials)
    chosen = select(cases, select_on, budgets)
    finals = cases[cases["stage"].astype(str).eq("final")]
    rows, pairs = [], []
    for (problem, _), name in zip(problems(trials), names, strict=True):
        mine = [s for s in chosen if s.problem == problem]
        for b in budgets:
            per = {s.optimizer: _finals(finals, problem, s.optimizer, s.trial) for s in mine if s.budget == b}
            acc = {k: v["test_accuracy"].dropna().to_numpy(float) for k, v in per.items()}
            pair = ranking(acc).assign(problem=name, budget=b)
            rank = ranks(pair, list(acc))
            pairs.append(pair)
            for s in (s for s in mine if s.budget == b):
                own = trials[(trials[OPTIMIZER].astype(str) == s.optimizer) & (trials["trial"] < b)]
                own = own[_in_problem(own, problem)]
                rows.append(_row(name, s, own, per[s.optimizer], rank.get(s.optimizer), pair))
    return {"tuned": pd.DataFrame(rows), "tuned_trials": _trials(trials, chosen, names, max(budgets)),
            "tuned_expected": _expected(trials, names), "tuned_ranking": pd.concat(pairs, ignore_index=True)}


def _problem_names(trials: pd.DataFrame) -> list[str]:
    """A short name per problem: the axes that vary between problems (``all`` when one)."""
    probs = [p for p, _ in problems(trials)]
    varying = [k for k in (probs[0] if probs else {}) if len({str(p[k]) for p in probs}) > 1]
    return [", ".join(f"{k}={p[k]}" for k in varying) or "all" for p in probs]


def _in_problem(df: pd.DataFrame, problem: Mapping[str, Any]) -> pd.Series:
    keep = pd.Series(True, index=df.index)
    for k, v in problem.items():
        keep &= df[k].isna() if v is None else df[k].astype(str).eq(str(v))
    return keep


def _finals(finals: pd.DataFrame, problem: Mapping[str, Any], label: str, trial: int | None) -> pd.DataFrame:
    rows = finals[(finals[OPTIMIZER].astype(str) == label) & (finals["trial"] == trial)]
    return rows[_in_problem(rows, problem) & rows["status"].astype(str).eq("ok")]


def _spread(values: pd.Series, name: str) -> dict[str, float]:
    v = pd.to_numeric(values, errors="coerce").dropna()
    if v.empty:
        return {f"{name}_median": math.nan, f"{name}_min": math.nan, f"{name}_max": math.nan}
    return {f"{name}_median": float(v.median()), f"{name}_min": float(v.min()), f"{name}_max": float(v.max())}


def _row(problem: str, s: Any, own: pd.DataFrame, fin: pd.DataFrame, rank: int | None,
         pair: pd.DataFrame) -> dict[str, Any]:
    energy = pd.to_numeric(own["energy_j"], errors="coerce") if "energy_j" in own else pd.Series(dtype=float)
    versus = [f"{r.verdict} than {r.b}" if r.a == s.optimizer else f"{_flip(r.verdict)} than {r.a}"
              for r in pair.itertuples() if s.optimizer in (r.a, r.b)]
    return {
        "problem": problem, "optimizer_label": s.optimizer, "budget": s.budget, "trial": s.trial,
        "selected": json.dumps(s.values, sort_keys=True), "selected_on": s.metric, "reason": s.reason,
        "final_seeds": len(fin),
        **_spread(fin.get("validation_accuracy", pd.Series(dtype=float)), "validation_accuracy"),
        **_spread(fin.get("test_accuracy", pd.Series(dtype=float)), "test_accuracy"),
        **_spread(fin.get("time_to_target_s", pd.Series(dtype=float)), "time_to_target_s"),
        **_spread(fin.get("energy_to_target_j", pd.Series(dtype=float)), "energy_to_target_j"),
        "tuning_trials": int(own["trial"].nunique()),
        "tuning_wall_s": float(pd.to_numeric(own["wall_s"], errors="coerce").sum(min_count=1)),
        "tuning_energy_j": float(energy.sum(min_count=1)) if energy.notna().all() and len(energy) else math.nan,
        "tuneability": float(own["reached_target"].fillna(False).astype(bool).mean()) if len(own) else math.nan,
        "rank": rank, "versus": "; ".join(versus).replace("tied than", "tied with"),
    }


def _flip(verdict: str) -> str:
    return {"better": "worse", "worse": "better"}.get(verdict, verdict)


def _trials(trials: pd.DataFrame, chosen: list, names: list[str], budget: int) -> pd.DataFrame:
    """One row per trial: its values, its validation figures, and whether it won the largest budget."""
    won = {(json.dumps(s.problem, sort_keys=True, default=str), s.optimizer, s.trial)
           for s in chosen if s.budget == budget}
    out = []
    for (problem, rows), name in zip(problems(trials), names, strict=True):
        key = json.dumps(problem, sort_keys=True, default=str)
        for r in rows.itertuples():
            out.append({"problem": name, "optimizer_label": r.optimizer_label, "trial": int(r.trial),
                        "learning_rate": r.learning_rate, "tuned_params": r.tuned_params, "status": r.status,
                        "validation_accuracy": r.validation_accuracy, "validation_loss": r.validation_loss,
                        "test_accuracy": r.test_accuracy, "reached_target": r.reached_target,
                        "winner": (key, str(r.optimizer_label), int(r.trial)) in won})
    return pd.DataFrame(out)


def _expected(trials: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Expected best validation accuracy of k trials (failed trials count as 0: the worst)."""
    out = []
    for (_, rows), name in zip(problems(trials), names, strict=True):
        for label, own in rows.groupby(OPTIMIZER, sort=False):
            ok = own["status"].astype(str).eq("ok")
            acc = pd.to_numeric(own["validation_accuracy"], errors="coerce").where(ok).fillna(0.0)
            per_trial = acc.groupby(own["trial"]).median().to_numpy(float)
            mean, sd = expected_best(per_trial)
            out += [{"problem": name, "optimizer_label": label, "k": k + 1, "expected_best": m, "expected_best_sd": d}
                    for k, (m, d) in enumerate(zip(mean, sd, strict=True))]
    return pd.DataFrame(out)

