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

Reachability is judged per item and for the decision actually made: the item's
own sizes, the floor of the method that computes its p (exact or normal,
:func:`stats.min_p`), its selection factor, and the correction in force (Holm,
BH or none) applied to the family with the item's p replaced by that floor and
every other item's p as observed. Shifted log values closer than
:data:`THRESHOLD_TOLERANCE` are ties, so rounding noise at the threshold never
flips a verdict.
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
THRESHOLD_TOLERANCE = 1e-9
"""Log units (a ratio of 1 + 1e-9): after the shift by tau = log(1 + delta), values of the two sides closer
than this are ties. log(1.05) - log1p(0.05) is 4e-17, so 10 x 1.00 vs 10 x 1.05 is a change of exactly the
threshold (neither a regression nor "within"), whatever the rounding; any effect worth gating is >= 1e-4."""


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
    selection: int = 1  # places the comparison was chosen from (history: step positions); p x this (Bonferroni)


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
    tau, tol, k = math.log1p(item.threshold), THRESHOLD_TOLERANCE, max(1, item.selection)
    a.p_worse = min(1.0, k * stats.rank_sum_greater(ub, uc - tau, tol))
    a.p_better = min(1.0, k * stats.rank_sum_greater(uc + tau, ub, tol))
    a.p_within = max(stats.rank_sum_greater(uc - tau, ub, tol), stats.rank_sum_greater(ub, uc + tau, tol))
    _, lo, hi = stats.shift_interval(np.log(b), np.log(c), s.confidence)
    a.ci_low, a.ci_high = math.expm1(lo), math.expm1(hi)
    a.min_p = min(1.0, k * stats.min_p(b.size, c.size))
    a.noisy = bool(max(a.cv_base, a.cv_current) > s.max_cv)
    return a


def _pct(a: Assessment) -> str:
    ci = f" (CI {a.ci_low:+.1%} .. {a.ci_high:+.1%})" if math.isfinite(a.ci_low + a.ci_high) else ""
    return f"{a.change:+.1%}{ci}"


@dataclass(frozen=True)
class Reach:
    """Could this item reach a verdict with its sizes, the correction in force and the family as observed?"""

    reachable: bool
    needed: int | None = None  # repeats a side (n v n) from which it could, None: not within 1,000
    correction: str = "holm"
    family: int = 1


def _could_reject(p: np.ndarray, i: int, floor: float, correction: str, alpha: float) -> bool:
    """Item ``i`` at its best (p = floor), the others as observed: would the correction reject it?"""
    q = np.array(p, dtype=float)
    q[i] = floor
    return bool(stats.CORRECTIONS[correction](q)[i] < alpha)


def reach(p_worse: np.ndarray, p_better: np.ndarray, i: int, floor: float, correction: str,
          alpha: float, selection: int = 1) -> Reach:  # fmt: skip
    """Per-item reachability of a regression or an improvement; ``needed`` by bisection on n v n."""
    m = int(np.isfinite(p_worse).sum())

    def ok(f: float) -> bool:
        return _could_reject(p_worse, i, f, correction, alpha) or _could_reject(p_better, i, f, correction, alpha)

    if ok(floor):
        return Reach(True, None, correction, m)
    lo, hi = 1, 1000
    if not ok(min(1.0, selection * stats.min_p(hi, hi))):
        return Reach(False, None, correction, m)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(min(1.0, selection * stats.min_p(mid, mid))) else (mid + 1, hi)
    return Reach(False, lo, correction, m)


def _at_threshold(a: Assessment, threshold: float) -> bool:
    """Every pairwise ratio equals 1 + delta (or its inverse) within the tolerance: a tie, not too few repeats."""
    if not math.isfinite(a.ci_low + a.ci_high):
        return False
    lo, hi, tau = math.log1p(a.ci_low), math.log1p(a.ci_high), math.log1p(threshold)
    return abs(hi - lo) <= THRESHOLD_TOLERANCE and abs(abs(lo) - tau) <= THRESHOLD_TOLERANCE


def verdict(a: Assessment, threshold: float, p_worse_adj: float, p_better_adj: float,
            alpha: float, family: int, reach_: Reach | None = None) -> tuple[str, str, bool]:  # fmt: skip
    """Phase 2: (verdict, one-line reason, reachable) given the corrected p-values.

    ``reach_`` is the item's own reachability (:func:`reach`); without it the
    Holm bound ``family * min_p < alpha`` is used (the old behaviour).
    """
    if a.early:
        return a.early, a.reason, not a.reason.startswith("too few")
    noisy = f"; noisy (robust CV {max(a.cv_base, a.cv_current):.1%})" if a.noisy else ""
    if p_worse_adj < alpha:
        return REGRESSION, f"{_pct(a)}: worse by more than {threshold:.0%}, p={p_worse_adj:.2g} < {alpha:g}{noisy}", True
    if p_better_adj < alpha:
        return IMPROVEMENT, f"{_pct(a)}: better by more than {threshold:.0%}, p={p_better_adj:.2g} < {alpha:g}{noisy}", True
    if a.p_within < alpha:
        return NO_CHANGE, f"{_pct(a)}: within ±{threshold:.0%} (p={a.p_within:.2g}){noisy}", True
    if _at_threshold(a, threshold):
        return INCONCLUSIVE, (f"{_pct(a)}: the change is the threshold itself ({threshold:.0%}, every pair of "
                              f"repeats): neither 'more than' nor 'within' can be shown; repeats would not help{noisy}"), True  # fmt: skip
    r = reach_ or Reach(family * a.min_p < alpha, stats.repeats_needed(family, alpha), "holm", family)
    if not r.reachable:
        need = f"need >= {r.needed} repeats a side" if r.needed else "no number of repeats up to 1,000 a side suffices"
        why = (f"{_pct(a)}: cannot decide: {a.n_base} vs {a.n_current} repeats give p >= {a.min_p:.2g}, "
               f"too large for {r.correction} over a family of {r.family} at alpha {alpha:g}; {need}")  # fmt: skip
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
        decided = a.early or min(adj_w[i], adj_b[i]) < s.alpha or a.p_within < s.alpha
        r = None if decided else reach(p_worse, p_better, i, a.min_p, s.correction, s.alpha, max(1, it.selection))
        v, why, ok = verdict(a, it.threshold, float(adj_w[i]), float(adj_b[i]), s.alpha, len(items), r)
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
