"""One comparison: the repeats of a metric on both sides -> a verdict.

Two phases, because the multiple-comparison correction needs every p-value of
the family before any verdict is given:

1. :func:`assess` checks the repeats (enough of them, not too noisy), computes
   the relative change of the statistic, its bootstrap confidence interval and
   the two one-sided Mann-Whitney p-values (worse, better).
2. :func:`verdict` takes the corrected p-values and decides:

* **regression**: the corrected one-sided p (current worse) is below alpha,
  the change is at least the threshold in the worse direction, and the
  confidence interval excludes "no change";
* **improvement**: the mirror image;
* **no_change**: neither, and the interval's worse end stays below the
  threshold (a regression of that size is ruled out), or both sides are the
  same constant;
* **inconclusive**: too few repeats, too noisy (robust CV above the limit), or
  the interval still admits a regression of at least the threshold.

The change is ``stat(current) / stat(base) - 1`` in the metric's own units; for
a higher-is-better metric "worse" means negative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.analysis import stats

REGRESSION = "regression"
IMPROVEMENT = "improvement"
NO_CHANGE = "no_change"
INCONCLUSIVE = "inconclusive"
NOT_COMPARABLE = "not_comparable"
VERDICTS = (REGRESSION, IMPROVEMENT, NO_CHANGE, INCONCLUSIVE, NOT_COMPARABLE)


@dataclass(frozen=True)
class Settings:
    """Knobs of the decision; the defaults are the documented ones."""

    alpha: float = 0.05  # family-wise, after the correction
    min_repeats: int = 5  # per side
    max_cv: float = 0.10  # robust coefficient of variation, per side
    confidence: float = 0.90  # two-sided; each end is a one-sided 95 % bound (matches alpha)
    n_resamples: int = 2000
    correction: str = "holm"
    seed: int = 0


@dataclass
class Assessment:
    """Everything computed before the correction; ``early`` is a verdict that needs no test."""

    n_base: int
    n_current: int
    base_stat: float
    current_stat: float
    change: float  # current / base - 1
    ci_low: float  # of the change
    ci_high: float
    cv_base: float
    cv_current: float
    p_worse: float  # raw one-sided p-values
    p_better: float
    early: str | None = None
    reason: str = ""


def _nan_assessment(b: np.ndarray, c: np.ndarray, verdict: str, reason: str) -> Assessment:
    def stat(x: np.ndarray) -> float:
        return float(np.median(x)) if x.size else float("nan")

    bs, cs = stat(b), stat(c)
    change = cs / bs - 1.0 if b.size and c.size and bs != 0 else float("nan")
    nan = float("nan")
    return Assessment(
        b.size, c.size, bs, cs, change, nan, nan,
        stats.robust_cv(b), stats.robust_cv(c), nan, nan, verdict, reason,
    )  # fmt: skip


def assess(
    base: np.ndarray,
    current: np.ndarray,
    *,
    higher_is_better: bool,
    statistic: str = "median",
    settings: Settings | None = None,
    rng: np.random.Generator | None = None,
) -> Assessment:
    """Phase 1: checks, effect size, bootstrap interval, raw one-sided p-values."""
    s = settings or Settings()
    b = np.asarray(base, dtype=float)
    c = np.asarray(current, dtype=float)
    b, c = b[np.isfinite(b)], c[np.isfinite(c)]
    if min(b.size, c.size) < s.min_repeats:
        return _nan_assessment(
            b, c, INCONCLUSIVE,
            f"too few repeats ({b.size} baseline, {c.size} current; need {s.min_repeats} each)",
        )  # fmt: skip
    if np.ptp(b) == 0 and np.ptp(c) == 0 and b[0] == c[0]:
        a = _nan_assessment(b, c, NO_CHANGE, "identical on both sides")
        a.ci_low = a.ci_high = 0.0
        return a
    cvb, cvc = stats.robust_cv(b), stats.robust_cv(c)
    noisy = [f"{n} CV {v:.1%}" for n, v in (("baseline", cvb), ("current", cvc)) if v > s.max_cv]
    if noisy or np.isnan(cvb) or np.isnan(cvc):
        return _nan_assessment(
            b, c, INCONCLUSIVE,
            f"too noisy ({', '.join(noisy) or 'zero median'}; limit {s.max_cv:.0%})",
        )  # fmt: skip
    center = np.median if statistic == "median" else np.mean
    bs, cs = float(center(b)), float(center(c))
    lo, hi = stats.bootstrap_ratio_ci(
        b, c, statistic=statistic, confidence=s.confidence, n_resamples=s.n_resamples,
        rng=rng if rng is not None else np.random.default_rng(s.seed),
    )  # fmt: skip
    up = stats.mann_whitney_greater(c, b)  # current larger
    down = stats.mann_whitney_greater(b, c)  # current smaller
    p_worse, p_better = (down, up) if higher_is_better else (up, down)
    return Assessment(b.size, c.size, bs, cs, cs / bs - 1.0, lo - 1.0, hi - 1.0, cvb, cvc, p_worse, p_better)


def verdict(
    a: Assessment,
    *,
    higher_is_better: bool,
    threshold: float,
    p_worse_adj: float,
    p_better_adj: float,
    alpha: float = 0.05,
) -> tuple[str, str]:
    """Phase 2: the verdict and a one-line reason, given the corrected p-values."""
    if a.early:
        return a.early, a.reason
    sign = -1.0 if higher_is_better else 1.0  # worse change is positive after * sign
    worse, (w_lo, w_hi) = sign * a.change, sorted((sign * a.ci_low, sign * a.ci_high))
    pct = f"{a.change:+.1%} (CI {a.ci_low:+.1%} .. {a.ci_high:+.1%})"
    if p_worse_adj < alpha and worse >= threshold and w_lo > 0:
        return REGRESSION, f"{pct}, p={p_worse_adj:.2g} < {alpha:g}, beyond {threshold:.0%}"
    if p_better_adj < alpha and -worse >= threshold and w_hi < 0:
        return IMPROVEMENT, f"{pct}, p={p_better_adj:.2g} < {alpha:g}, beyond {threshold:.0%}"
    if w_hi < threshold:
        small = " (significant but below the threshold)" if min(p_worse_adj, p_better_adj) < alpha else ""
        return NO_CHANGE, f"{pct}{small}"
    return INCONCLUSIVE, f"{pct}: a change of {threshold:.0%} or more is not ruled out; add repeats"


def decide_one(
    base: np.ndarray,
    current: np.ndarray,
    *,
    higher_is_better: bool,
    threshold: float = 0.05,
    statistic: str = "median",
    settings: Settings | None = None,
    rng: np.random.Generator | None = None,
) -> tuple[str, Assessment]:
    """A single comparison (a family of one: no correction needed)."""
    s = settings or Settings()
    a = assess(base, current, higher_is_better=higher_is_better, statistic=statistic, settings=s, rng=rng)
    v, _ = verdict(
        a, higher_is_better=higher_is_better, threshold=threshold,
        p_worse_adj=a.p_worse, p_better_adj=a.p_better, alpha=s.alpha,
    )  # fmt: skip
    return v, a
