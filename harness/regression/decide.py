"""The decision: repeats of one metric on both sides -> a verdict, for a whole family at once.

Everything happens on log values oriented so that "worse" is larger
(``u = log(x)`` for lower-is-better metrics, ``-log(x)`` for higher-is-better
ones), so ``train_s`` and ``samples_per_s`` give the same decision, and the
minimum effect ``delta`` becomes the symmetric log threshold ``tau = log(1 + delta)``
(5 % slower and 5 % faster are the same distance from "no change").

For every comparison of the family, exact rank-sum tests (``stats.rank_sum_greater``,
exact with ties) of *shifted* hypotheses:

* ``p_worse``:  H0 "current is at most tau worse"   (shift <= tau)  vs  shift > tau
* ``p_better``: H0 "current is at most tau better"  (shift >= -tau) vs  shift < -tau
* ``p_within``: the larger of the two one-sided tests of |shift| >= tau (TOST)

The family is chosen before looking at the data (every gated case x metric,
noisy or not, missing data counted as p = 1) and ``p_worse`` is corrected over
it (Holm: the chance of one or more false regressions per build stays below
alpha). Then:

* **regression**: corrected ``p_worse`` < alpha: the change *exceeds* the threshold;
* **improvement**: corrected ``p_better`` < alpha (a family of its own);
* **no_change**: ``p_within`` < alpha: a change of the threshold's size is ruled
  out either way (an equivalence claim; not corrected, it gates nothing);
* **inconclusive**: otherwise; the reason says whether more repeats could help
  and how many a side the family needs before any verdict is reachable.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from harness.regression import stats

REGRESSION = "regression"
IMPROVEMENT = "improvement"
NO_CHANGE = "no_change"
INCONCLUSIVE = "inconclusive"
NOT_COMPARABLE = "not_comparable"
VERDICTS = (REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE, NOT_COMPARABLE)


@dataclass(frozen=True)
class Settings:
    """Knobs of the decision; the defaults are the documented ones."""

    alpha: float = 0.05  # family-wise, per build, after the correction
    min_repeats: int = 3  # per side; fewer: inconclusive (p = 1, still in the family)
    max_cv: float = 0.10  # robust CV above which a comparison is flagged noisy (it stays in the family)
    confidence: float = 0.90  # two-sided interval of the change; each end a one-sided 95 % bound
    correction: str = "holm"


@dataclass(frozen=True)
class Item:
    """One comparison of the family: the ok repeats of one metric of one case on both sides."""

    base: np.ndarray
    current: np.ndarray
    higher_is_better: bool
    threshold: float = 0.05
    statistic: str = "median"
    blocked: str | None = None  # a reason the pair may not be compared (verdict not_comparable)


@dataclass
class Assessment:
    """Everything computed before the correction; ``early`` is a verdict that needs no test."""

    n_base: int
    n_current: int
    base_stat: float
    current_stat: float
    change: float  # stat(current) / stat(base) - 1, in the metric's own direction
    ci_low: float  # of the change (Hodges-Lehmann / Moses interval of the log ratio)
    ci_high: float
    cv_base: float
    cv_current: float
    p_worse: float = 1.0  # raw one-sided p-values of the shifted hypotheses
    p_better: float = 1.0
    p_within: float = 1.0
    min_p: float = 1.0  # smallest p these sample sizes can give
    noisy: bool = False
    early: str | None = None
    reason: str = ""


@dataclass
class Decision:
    verdict: str
    reason: str
    assessment: Assessment
    p_worse_adj: float
    p_better_adj: float
    reachable: bool = True
    extra: dict = field(default_factory=dict)


def _center(x: np.ndarray, statistic: str) -> float:
    if not x.size:
        return float("nan")
    if statistic == "median":
        return float(np.median(x))
    if statistic == "mean":
        return float(np.mean(x))
    raise ValueError(f"statistic must be 'median' or 'mean'. Received: statistic={statistic!r}")


def _describe(b: np.ndarray, c: np.ndarray, statistic: str) -> Assessment:
    bs, cs = _center(b, statistic), _center(c, statistic)
    change = cs / bs - 1.0 if b.size and c.size and bs != 0 else float("nan")
    nan = float("nan")
    return Assessment(b.size, c.size, bs, cs, change, nan, nan, stats.robust_cv(b), stats.robust_cv(c))


def assess(item: Item, settings: Settings | None = None) -> Assessment:
    """Phase 1: checks, effect size, exact interval and the raw p-values of the shifted tests."""
    s = settings or Settings()
    b = np.asarray(item.base, dtype=float)
    c = np.asarray(item.current, dtype=float)
    b, c = b[np.isfinite(b)], c[np.isfinite(c)]
    a = _describe(b, c, item.statistic)
    if item.blocked:
        a.early, a.reason = NOT_COMPARABLE, item.blocked
        return a
    if min(b.size, c.size) < s.min_repeats:
        a.early = INCONCLUSIVE
        a.reason = f"too few repeats ({b.size} baseline, {c.size} current; need {s.min_repeats} each)"
        return a
    if np.ptp(b) == 0 and np.ptp(c) == 0 and b[0] == c[0]:
        a.early, a.reason, a.ci_low, a.ci_high = NO_CHANGE, "identical on both sides", 0.0, 0.0
        return a
    if (b <= 0).any() or (c <= 0).any():
        a.early, a.reason = INCONCLUSIVE, "values <= 0: the decision works on ratios (log values)"
        return a
    sign = -1.0 if item.higher_is_better else 1.0
    ub, uc = sign * np.log(b), sign * np.log(c)
    tau = math.log1p(item.threshold)
    a.p_worse = stats.rank_sum_greater(ub, uc - tau)
    a.p_better = stats.rank_sum_greater(uc + tau, ub)
    a.p_within = max(stats.rank_sum_greater(uc - tau, ub), stats.rank_sum_greater(ub, uc + tau))
    _, lo, hi = stats.shift_interval(np.log(b), np.log(c), s.confidence)
    a.ci_low, a.ci_high = math.expm1(lo), math.expm1(hi)
    a.min_p = stats.min_p(b.size, c.size)
    a.noisy = bool(max(a.cv_base, a.cv_current) > s.max_cv)
    return a


def _pct(a: Assessment) -> str:
    ci = f" (CI {a.ci_low:+.1%} .. {a.ci_high:+.1%})" if math.isfinite(a.ci_low + a.ci_high) else ""
    return f"{a.change:+.1%}{ci}"


def verdict(a: Assessment, threshold: float, p_worse_adj: float, p_better_adj: float,
            alpha: float, family: int) -> tuple[str, str, bool]:  # fmt: skip
    """Phase 2: (verdict, one-line reason, reachable) given the corrected p-values."""
    if a.early:
        return a.early, a.reason, not a.reason.startswith("too few")
    noisy = f"; noisy (robust CV {max(a.cv_base, a.cv_current):.1%})" if a.noisy else ""
    if p_worse_adj < alpha:
        return REGRESSION, f"{_pct(a)}: worse by more than {threshold:.0%}, p={p_worse_adj:.2g} < {alpha:g}{noisy}", True
    if p_better_adj < alpha:
        return IMPROVEMENT, f"{_pct(a)}: better by more than {threshold:.0%}, p={p_better_adj:.2g} < {alpha:g}{noisy}", True
    if a.p_within < alpha:
        return NO_CHANGE, f"{_pct(a)}: within ±{threshold:.0%} (p={a.p_within:.2g}){noisy}", True
    if family * a.min_p >= alpha:
        need = stats.repeats_needed(family, alpha)
        why = (f"{_pct(a)}: cannot decide: {a.n_base} vs {a.n_current} repeats give p >= {a.min_p:.2g}, "
               f"too large for a family of {family} at alpha {alpha:g}; need >= {need} repeats a side")  # fmt: skip
        return INCONCLUSIVE, why + noisy, False
    return INCONCLUSIVE, f"{_pct(a)}: a change of {threshold:.0%} or more is not ruled out; add repeats{noisy}", True


def decide_family(items: Sequence[Item], settings: Settings | None = None) -> list[Decision]:
    """Decide every comparison of a family chosen in advance (the gate of one build)."""
    s = settings or Settings()
    assessments = [assess(it, s) for it in items]
    correct = stats.CORRECTIONS[s.correction]
    p_worse = np.array([a.p_worse for a in assessments], dtype=float)
    p_better = np.array([a.p_better for a in assessments], dtype=float)
    adj_w, adj_b = correct(p_worse), correct(p_better)
    out = []
    for i, (it, a) in enumerate(zip(items, assessments, strict=True)):
        v, why, ok = verdict(a, it.threshold, float(adj_w[i]), float(adj_b[i]), s.alpha, len(items))
        a.reason = why
        out.append(Decision(v, why, a, float(adj_w[i]), float(adj_b[i]), ok))
    return out


def decide_one(
    base: np.ndarray, current: np.ndarray, *, higher_is_better: bool, threshold: float = 0.05,
    statistic: str = "median", settings: Settings | None = None,
) -> tuple[str, Assessment]:  # fmt: skip
    """A single comparison (a family of one)."""
    d = decide_family([Item(np.asarray(base), np.asarray(current), higher_is_better, threshold, statistic)],
                      settings)[0]  # fmt: skip
    return d.verdict, d.assessment
