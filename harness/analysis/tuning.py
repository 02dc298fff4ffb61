"""Tuning's statistics: selection on validation only, Dodge et al.'s expected best, the ranking.

Selection rules (recorded in run.json by ``harness tune``, :data:`RULES`):

- only validation figures are read (``validation_accuracy``, ``validation_loss``,
  ``time_to_target_s`` whose target is read on validation accuracy); test figures
  never choose anything;
- a diverged, failed or timed-out trial is a result, the worst one (not dropped);
- several repeats of a trial: their median;
- ties go to the lower trial index;
- a budget of b trials reads trials 0 ... b-1 only (budgets are prefixes).

A *problem* is every case axis except the optimizer's own (name, label,
parameters), the tuned keys (learning rate, seed) and the tuning bookkeeping:
a new axis (a model, say) is simply one more problem axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harness import schema
from harness.regression import stats

RULES = ("validation figures only; a diverged/failed trial is the worst result; median over repeats; "
         "ties to the lower trial index; a budget of b reads trials 0..b-1")
OPTIMIZER = "optimizer_label"
NOT_PROBLEM = {"optimizer", "optimizer_label", "optimizer_params", "learning_rate", "seed", "batch_size",
               "num_replicas", "num_workers", "per_replica_batch_size", "dataset_train_size",
               "dataset_test_size", "dataset_validation_size", "dataset_hash"}
CRITERIA = {  # select_on -> (column, higher is better)
    "validation_accuracy": ("validation_accuracy", True),
    "validation_loss": ("validation_loss", False),
    "time_to_target": ("time_to_target_s", False),
}


def problem_columns(df: pd.DataFrame) -> list[str]:
    """The axis columns that define a problem, among those ``df`` has (generic over new axes)."""
    return [c for c in schema.AXES if c in df.columns and c not in NOT_PROBLEM]


def problems(df: pd.DataFrame) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """(problem as axis -> value, its rows) in first-seen order."""
    cols = problem_columns(df)
    if df.empty:
        return []
    keys = df[cols].astype(object).map(str).agg("\x1f".join, axis=1) if cols else pd.Series("", index=df.index)
    return [({c: _plain(df.loc[idx[0], c]) for c in cols}, df.loc[idx])
            for idx in (keys[keys == k].index for k in dict.fromkeys(keys))]


def trial_scores(trials: pd.DataFrame, select_on: str) -> pd.DataFrame:
    """One row per trial: ``trial``, ``score`` (higher is better; failures -inf), ``value`` (as measured)."""
    column, higher = CRITERIA[select_on]
    ok = trials["status"].astype(str).eq("ok")
    value = pd.to_numeric(trials[column], errors="coerce").where(ok)
    sign = 1.0 if higher else -1.0
    score = (sign * value).fillna(-math.inf)
    per = pd.DataFrame({"trial": trials["trial"].astype(int), "score": score, "value": value})
    return per.groupby("trial", sort=True).agg(score=("score", "median"), value=("value", "median")).reset_index()


@dataclass
class Selection:
    """The winner of one problem x optimizer x budget (``trial`` None: no trial ran)."""

    problem: dict[str, Any]
    optimizer: str
    budget: int
    trial: int | None
    metric: str
    score: float
    values: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"problem": self.problem, "optimizer": self.optimizer, "budget": self.budget, "trial": self.trial,
                "metric": self.metric, "score": None if not math.isfinite(self.score) else self.score,
                "values": self.values, "reason": self.reason}


def select(cases: pd.DataFrame, select_on: str, budgets: list[int]) -> list[Selection]:
    """Winners per problem x optimizer x budget, from the ``stage == "trial"`` rows (validation only)."""
    import json

    trials = cases[cases["stage"].astype(str).eq("trial")]
    out = []
    for problem, rows in problems(trials):
        for label, own in rows.groupby(OPTIMIZER, sort=False):
            values = {int(t): json.loads(p) if isinstance(p, str) and p else {}
                      for t, p in zip(own["trial"], own["tuned_params"], strict=True)}
            for b in budgets:
                out.append(_select_one(problem, str(label), b, own[own["trial"] < b], select_on, values))
    return out


def _select_one(problem: dict, label: str, budget: int, rows: pd.DataFrame, select_on: str,
                values: dict[int, dict]) -> Selection:
    if rows.empty:
        return Selection(problem, label, budget, None, select_on, -math.inf, reason="no trial ran")
    scores = trial_scores(rows, select_on)
    reason = f"best {select_on} of {len(scores)} trial(s)"
    if select_on == "time_to_target" and not np.isfinite(scores["score"]).any():
        acc = trial_scores(rows, "validation_accuracy")
        best = acc.sort_values(["score", "trial"], ascending=[False, True]).iloc[0]
        return Selection(problem, label, budget, int(best["trial"]), "validation_accuracy", float(best["score"]),
                         values.get(int(best["trial"]), {}),
                         f"not reached: no trial reached the target; best validation accuracy {best['score']:.4f}")
    best = scores.sort_values(["score", "trial"], ascending=[False, True]).iloc[0]
    if not math.isfinite(best["score"]):
        reason = f"every trial failed or diverged; trial {int(best['trial'])} (lowest index) kept"
    return Selection(problem, label, budget, int(best["trial"]), select_on, float(best["score"]),
                     values.get(int(best["trial"]), {}), reason)


def expected_best(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dodge et al. (2019): the expected best score of k = 1..N trials from the N measured ones, and its
    standard deviation. Drawn without replacement (the k trials of a budget are k distinct trials), so
    the curve is non-decreasing and ends exactly at the best trial (with replacement, Dodge's
    formula, it ends below it). A failed trial must be given its worst value by the caller.

    With v(1) <= ... <= v(N): P(best of k = v(i)) = C(i-1, k-1) / C(N, k).
    """
    v = np.sort(np.asarray(scores, dtype=float))
    n = v.size
    means, sds = [], []
    for k in range(1, n + 1):
        p = np.array([math.comb(i - 1, k - 1) for i in range(1, n + 1)], dtype=float) / math.comb(n, k)
        mean = float((v * p).sum())
        means.append(mean)
        sds.append(math.sqrt(max(float((v**2 * p).sum()) - mean**2, 0.0)))
    return np.array(means), np.array(sds)


def ranking(finals: dict[str, np.ndarray], higher: bool = True, alpha: float = 0.05) -> pd.DataFrame:
    """Pairwise exact one-sided rank-sum tests between optimizers' final seeds, Holm-corrected over
    the family (every ordered pair): one row per pair, ``verdict`` better / worse / tied (for ``a``),
    and per optimizer ``rank`` = 1 + the optimizers significantly better than it."""
    names = [k for k, v in finals.items() if len(v)]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    p_better = [stats.rank_sum_greater(finals[b], finals[a]) if higher else
                stats.rank_sum_greater(finals[a], finals[b]) for a, b in pairs]
    p_worse = [stats.rank_sum_greater(finals[a], finals[b]) if higher else
               stats.rank_sum_greater(finals[b], finals[a]) for a, b in pairs]
    adj = stats.holm(np.array(p_better + p_worse)) if pairs else np.array([])
    rows = []
    for j, (a, b) in enumerate(pairs):
        pb, pw = adj[j], adj[j + len(pairs)]
        verdict = "better" if pb < alpha else "worse" if pw < alpha else "tied"
        rows.append({"a": a, "b": b, "verdict": verdict, "p_better_holm": pb, "p_worse_holm": pw,
                     "n_a": len(finals[a]), "n_b": len(finals[b]),
                     "min_p_reachable": stats.min_p(len(finals[a]), len(finals[b]))})
    return pd.DataFrame(rows, columns=["a", "b", "verdict", "p_better_holm", "p_worse_holm", "n_a", "n_b",
                                       "min_p_reachable"])


def ranks(pairs: pd.DataFrame, names: list[str]) -> dict[str, int]:
    """1 + the number of optimizers significantly better than each (ties share a rank)."""
    above = dict.fromkeys(names, 0)
    for r in pairs.itertuples():
        if r.verdict == "better":
            above[r.b] += 1
        elif r.verdict == "worse":
            above[r.a] += 1
    return {k: 1 + v for k, v in above.items()}


def _plain(v: Any) -> Any:
    if v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return None
    return v.item() if hasattr(v, "item") else v
