"""Small statistics for regression decisions: exact rank tests, robust spread, Holm.

Everything works on plain 1-D float arrays of *repeats* (one value per case x
repeat); NaN values must be dropped by the caller.

The rank test is exact: the permutation distribution of the Wilcoxon rank sum
with mid-ranks for ties is enumerated by dynamic programming (the number of
ways to pick ``n`` of the ``N`` pooled ranks with a given sum), so the p-value
is the one an exhaustive permutation test of the rank sum gives, ties or not.
SciPy's ``mannwhitneyu`` falls back to a normal approximation with ties, which
at small n overstates significance (0.91 vs 0.90 constant at n = 5: 0.002
instead of the exact 0.004). Only above :data:`EXACT_MAX_N` pooled values does
this module use the normal approximation (with tie and continuity correction),
and above it only where the enumeration would be too costly (:func:`exact_method`:
3 v 120 is enumerated, 515 v 515 is not).

Edges, handled explicitly: p-value floors are exact rationals (``1 / C(N, n)``
as an integer division, never a float conversion of a huge binomial, so
515 v 515 and 1,000 v 1,000 give a floor of 0.0 instead of an
``OverflowError``); the interval's ranks come from integer counts compared with
the confidence as a rational (3 v 3 at 90 % gets its exact finite interval,
(1 - 0.9) / 2 in floats being 0.04999...); and :func:`rank_sum_greater` takes a
tolerance under which two values are ties (see ``decide.THRESHOLD_TOLERANCE``).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
from scipy import stats as sps

MAD_TO_SD = 1.4826  # scale of the median absolute deviation for a normal distribution
EXACT_MAX_N = 100  # pooled values (50 a side) up to which the rank-sum distribution is enumerated
EXACT_BUDGET = 50 * 100**3  # beyond EXACT_MAX_N: enumerate while min(n) * N**3 (the DP's work) stays below this


def exact_method(n_x: int, n_y: int) -> bool:
    """Whether :func:`rank_sum_greater` enumerates (True) or uses the normal approximation for these sizes."""
    big_n = n_x + n_y
    return big_n <= EXACT_MAX_N or min(n_x, n_y) * big_n**3 <= EXACT_BUDGET


def robust_cv(values: np.ndarray) -> float:
    """Coefficient of variation from the MAD (1.4826 * MAD / |median|).

    Robust on purpose: one slow outlier among ten repeats should not make a case
    "too noisy" when the other nine agree within a per cent. NaN for < 2 values
    or a zero median.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float("nan")
    med = float(np.median(x))
    if med == 0.0:
        return float("nan")
    return MAD_TO_SD * float(np.median(np.abs(x - med))) / abs(med)


@lru_cache(maxsize=256)
def _rank_sum_counts(doubled_ranks: tuple[int, ...], n: int) -> np.ndarray:
    """ways[s]: subsets of ``n`` of the (doubled, integer) ranks whose sum is ``s``.

    Float counts: exact below 2**53 (C(60, 30) ~ 1.2e17 loses only relative
    precision, which is all a probability needs).
    """
    total = sum(doubled_ranks)
    ways = np.zeros((n + 1, total + 1))
    ways[0, 0] = 1.0
    for r in doubled_ranks:
        ways[1:, r:] += ways[:-1, : total + 1 - r].copy()
    return ways[n]


def tie_ranks(values: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """Mid-ranks where values within ``tol`` of their sorted neighbour are ties (``tol`` 0: exact ties only)."""
    v = np.asarray(values, dtype=float)
    if tol <= 0.0:
        return sps.rankdata(v)
    order = np.argsort(v, kind="stable")
    group = np.concatenate([[0], np.cumsum(np.diff(v[order]) > tol)])  # a new group after each gap > tol
    first = np.searchsorted(group, group, side="left")
    last = np.searchsorted(group, group, side="right")
    ranks = np.empty(v.size)
    ranks[order] = (first + last + 1) / 2.0  # mid-rank of positions first+1 .. last
    return ranks


def rank_sum_greater(x: np.ndarray, y: np.ndarray, tol: float = 0.0) -> float:
    """Exact one-sided p-value that ``y`` tends to be larger than ``x`` (rank-sum permutation test).

    Ties get mid-ranks and the null distribution is that of the mid-rank sum
    over all C(N, n) equally likely splits: exact with ties. Values within
    ``tol`` of each other count as ties. All values tied: p = 1.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    pooled = np.concatenate([x, y])
    if pooled.size == 0:
        return 1.0
    ranks = tie_ranks(pooled, tol)  # mid-ranks, sums of halves
    if np.ptp(ranks) == 0.0:
        return 1.0
    observed = float(ranks[x.size :].sum())
    if not exact_method(x.size, y.size):
        return _normal_rank_sum_greater(ranks, y.size, observed)
    at_least = int(round(2 * observed))
    if np.unique(ranks).size == ranks.size:  # no ties: ranks 1..N, one cached table per (N, n)
        if y.size <= x.size:
            return float(_no_tie_tail(pooled.size, y.size)[at_least])
        return float(_no_tie_cdf(pooled.size, x.size)[pooled.size * (pooled.size + 1) - at_least])
    doubled = tuple(sorted(int(round(2 * r)) for r in ranks))
    if y.size <= x.size:
        counts = _rank_sum_counts(doubled, y.size)
        return float(min(1.0, counts[at_least:].sum() / counts.sum()))
    counts = _rank_sum_counts(doubled, x.size)  # W_y >= w  <=>  W_x <= total - w (the smaller side's table)
    return float(min(1.0, counts[: sum(doubled) - at_least + 1].sum() / counts.sum()))


@lru_cache(maxsize=256)
def _no_tie_tail(big_n: int, n: int) -> np.ndarray:
    """tail[s] = P(doubled rank sum >= s) for ranks 1..big_n, n of them drawn (no ties)."""
    counts = _rank_sum_counts(tuple(range(2, 2 * big_n + 1, 2)), n)
    tail = np.cumsum(counts[::-1])[::-1] / counts.sum()
    return np.minimum(np.append(tail, 0.0), 1.0)


@lru_cache(maxsize=256)
def _no_tie_cdf(big_n: int, n: int) -> np.ndarray:
    """cdf[s] = P(doubled rank sum <= s) for ranks 1..big_n, n of them drawn (no ties)."""
    counts = _rank_sum_counts(tuple(range(2, 2 * big_n + 1, 2)), n)
    return np.minimum(np.cumsum(counts) / counts.sum(), 1.0)


def _normal_rank_sum_greater(ranks: np.ndarray, n: int, observed: float) -> float:
    """Normal approximation with tie correction and continuity (only for large samples)."""
    big_n = ranks.size
    mean = n * (big_n + 1) / 2.0
    _, tie_counts = np.unique(ranks, return_counts=True)
    var = n * (big_n - n) / 12.0 * ((big_n + 1) - (tie_counts**3 - tie_counts).sum() / (big_n * (big_n - 1)))
    if var <= 0:
        return 1.0
    return float(sps.norm.sf((observed - mean - 0.5) / math.sqrt(var)))


def min_p(n_x: int, n_y: int) -> float:
    """The smallest one-sided p-value :func:`rank_sum_greater` can give for these sizes (its floor).

    Exact method: 1 / C(n_x + n_y, n_x) (complete separation), an exact rational
    rounded once (0.0 where it underflows, never an overflow). Normal
    approximation: its p at complete separation with each side tied within
    itself, the smallest it gives (ties shrink the variance). In closed form:
    the rank sum exceeds its mean by n_x n_y / 2; the tie-corrected variance of
    two tied blocks is (n_x n_y)^2 / (4 (N - 1)), below the untied
    n_x n_y (N + 1) / 12 for every N >= 3; so z = sqrt(N - 1) (1 - 1 / (n_x n_y))
    after the continuity correction of 1/2.
    """
    if min(n_x, n_y) <= 0:
        return 1.0
    if exact_method(n_x, n_y):
        return 1 / math.comb(n_x + n_y, n_x)  # int / int: correctly rounded, no float overflow
    return float(sps.norm.sf(math.sqrt(n_x + n_y - 1) * (1 - 1 / (n_x * n_y))))


def reachable(n_x: int, n_y: int, family: int, alpha: float) -> bool:
    """Can any comparison of ``family`` reject at ``alpha`` after Holm (its first step: alpha / m)?"""
    return family * min_p(n_x, n_y) < alpha


def repeats_needed(family: int, alpha: float, limit: int = 1000) -> int:
    """Smallest n per side (n vs n) for which a complete separation survives Holm over ``family``."""
    for n in range(1, limit + 1):
        if reachable(n, n, max(family, 1), alpha):
            return n
    return limit


@lru_cache(maxsize=256)
def _u_cumcounts(n_x: int, n_y: int) -> tuple[int, ...]:
    """cum[k] = #{splits with U <= k} of the Mann-Whitney U (no ties), exact integers.

    The counts are the coefficients of the Gaussian binomial [N choose n]_q =
    prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i), built with Python integers.
    """
    n, m = min(n_x, n_y), max(n_x, n_y)
    c = [1] + [0] * (n * m)
    for i in range(1, n + 1):
        for k in range(n * m, m + i - 1, -1):  # times (1 - q^(m+i))
            c[k] -= c[k - m - i]
        for k in range(i, n * m + 1):  # divided by (1 - q^i)
            c[k] += c[k - i]
    out, run = [], 0
    for v in c:
        run += v
        out.append(run)
    return tuple(out)


def _rational(confidence: float) -> Fraction:
    """The confidence as the decimal the user meant (0.9 -> 9/10), not its binary approximation."""
    return Fraction(repr(float(confidence)))


def interval_rank(n_x: int, n_y: int, confidence: float) -> int:
    """k: the interval of :func:`shift_interval` is (d_(k), d_(n_x n_y + 1 - k)) of the sorted differences.

    Exact sizes: the largest k with P(U <= k - 1) <= (1 - confidence) / 2, in
    integers; 0 when none (an unbounded interval).
    """
    tail = (1 - _rational(confidence)) / 2
    if exact_method(n_x, n_y):
        cum = _u_cumcounts(n_x, n_y)
        total = cum[-1]
        return sum(1 for c in cum if c * tail.denominator <= tail.numerator * total)
    z = sps.norm.isf(float(tail))
    return int(math.floor(n_x * n_y / 2 - z * math.sqrt(n_x * n_y * (n_x + n_y + 1) / 12)))


def shift_interval(x: np.ndarray, y: np.ndarray, confidence: float = 0.90) -> tuple[float, float, float]:
    """Hodges-Lehmann shift of ``y`` over ``x`` and its exact (Moses) two-sided interval.

    (estimate, low, high) from the order statistics of the n_x * n_y pairwise
    differences; the interval's ends are the shifts that the exact rank-sum
    test just rejects at (1 - confidence) / 2 on each side. Infinite ends when
    the samples are too small for that confidence.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1). Received: confidence={confidence}")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    diffs = np.sort((y[:, None] - x[None, :]).ravel())
    estimate = float(np.median(diffs))
    k = interval_rank(x.size, y.size, confidence)
    if k < 1:
        return estimate, -math.inf, math.inf
    return estimate, float(diffs[k - 1]), float(diffs[diffs.size - k])


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm step-down adjusted p-values (family-wise error control). NaN stays NaN.

    Compare the adjusted values with alpha: reject where ``adjusted < alpha``.
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def benjamini_hochberg(pvalues: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false-discovery-rate control), by SciPy. NaN stays NaN."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = sps.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg, "none": lambda p: np.asarray(p, float)}
