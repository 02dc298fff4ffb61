"""Does a measurement drift as its worker ages? A rank-trend test per case and metric.

Repeats of one case are meant to be draws from one distribution. A worker that
is reused across cases accumulates state (see ``harness.runner.parent.pool.RecyclePolicy``),
so each row records its position in its worker (``worker_case_index``: 0 for a
fresh worker's first case). For every case with at least :data:`MIN_REPEATS` ok
repeats at more than one position, this module tests whether a metric trends
with that position: Spearman's rank correlation (Pearson's on mid-ranks), its
two-sided p-value by SciPy's permutation test (``scipy.stats.permutation_test``
over pairings, what ``pearsonr(..., method=PermutationMethod())`` runs; SciPy
1.17's ``spearmanr`` has no ``method``): every pairing enumerated up to
:data:`EXACT_PAIRINGS`, else :data:`PERMUTATIONS` seeded resamples; no normal
approximation at small n),
and Holm's correction over the whole family (cases x metrics,
:func:`harness.regression.stats.holm`), so a flag controls the chance of any
false flag in a run at ``alpha``.

A check that cannot fire says so: each trend carries the smallest p its repeats
can give (the p of the most extreme arrangement of its own values) and whether
Holm over the family could flag it at all; :func:`describe` reports "cannot
detect with N repeats / K comparisons" instead of a silent "no drift".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats as sps

from harness.regression.stats import holm

MIN_REPEATS = 6
PERMUTATIONS = 20000  # resampled pairings above EXACT_PAIRINGS: SciPy's two-sided floor 2 / 20001 = 1e-4
# (4000 gave 5e-4, which Holm at 1 % cannot reach once 20 trends are tested); one null per rank multiset
EXACT_PAIRINGS = 5040  # 7!: up to 7 repeats every pairing is enumerated (an exact p)
DRIFT_METRICS = ("samples_per_s", "compile_s", "train_s")


def spearman_rho(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant."""
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(sps.spearmanr(x, y).statistic)


def _pearson(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    a = a - a.mean(axis=axis, keepdims=True)
    b = b - b.mean(axis=axis, keepdims=True)
    return (a * b).sum(axis=axis) / np.sqrt((a * a).sum(axis=axis) * (b * b).sum(axis=axis))


@lru_cache(maxsize=64)
def _null(rx: tuple[float, ...], ry: tuple[float, ...], n_perm: int, seed: int) -> tuple[np.ndarray, bool]:
    """SciPy's permutation null distribution of rho for these rank multisets (exact: every pairing)."""
    n = len(rx)
    exact = math.factorial(n) <= EXACT_PAIRINGS
    fixed = np.array(ry)

    def rho(a: np.ndarray, axis: int = -1) -> np.ndarray:
        return _pearson(a, fixed, axis)

    res = sps.permutation_test((np.array(rx),), rho, permutation_type="pairings", vectorized=True,
                               n_resamples=math.factorial(n) if exact else n_perm,
                               rng=np.random.default_rng(seed))  # fmt: skip  (as pearsonr does: x's order)
    return res.null_distribution, exact


def _two_sided(null: np.ndarray, exact: bool, observed: float) -> float:
    """SciPy's two-sided permutation p-value (``2 * min(less, greater)``, +1 for resampled nulls)."""
    adj = 0 if exact else 1
    gamma = 1e-12  # rho values that are equal in exact arithmetic can differ by rounding (SciPy: relative 2e-14)
    less = (np.sum(null <= observed + gamma) + adj) / (null.size + adj)
    greater = (np.sum(null >= observed - gamma) + adj) / (null.size + adj)
    return float(min(1.0, 2 * min(less, greater)))


def permutation_p(x: np.ndarray, y: np.ndarray, n_perm: int = PERMUTATIONS, seed: int = 0) -> float:
    """Two-sided permutation p-value of Spearman's rho by ``scipy.stats.permutation_test`` (pairings).

    Exact (every pairing) up to :data:`EXACT_PAIRINGS`; the null distribution
    depends only on the two rank multisets, so it is computed once per
    multiset (one table for every untied series of the same length).
    """
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    null, exact = _null(tuple(np.sort(rx)), tuple(np.sort(ry)), n_perm, seed)
    return _two_sided(null, exact, float(_pearson(rx, ry)))


def floor_p(x: np.ndarray, y: np.ndarray, n_perm: int = PERMUTATIONS, seed: int = 0) -> float:
    """The smallest p these values can give: :func:`permutation_p` of ``y`` sorted along ``x``, either way.

    With ties the null distribution is asymmetric, so the rarer of the two
    extreme arrangements (increasing, decreasing) gives the floor.
    """
    xs, ys = np.sort(np.asarray(x, float)), np.sort(np.asarray(y, float))
    return min(permutation_p(xs, ys, n_perm, seed), permutation_p(xs, ys[::-1], n_perm, seed))


@dataclass(frozen=True)
class Trend:
    case_label: str
    metric: str
    n: int
    rho: float
    p: float
    p_holm: float
    flagged: bool
    min_p: float = math.nan  # the smallest p these repeats can give (the most extreme arrangement)
    detectable: bool = True  # could Holm over the family flag it at all, at its most extreme?
    family: int = 1  # K: trends tested together (the Holm family)


def repeat_trends(cases: pd.DataFrame, metrics: tuple[str, ...] = DRIFT_METRICS,
                  alpha: float = 0.01) -> list[Trend]:  # fmt: skip
    """One :class:`Trend` per case and metric that can be tested (see the module docstring)."""
    if "worker_case_index" not in cases or cases.empty:
        return []
    ok = cases[cases["status"] == "ok"] if "status" in cases else cases
    raw: list[tuple[str, str, int, float, float, float]] = []
    key = "case_id" if "case_id" in ok else "case_label"
    for _, rows in ok.groupby(key, sort=False):
        pos = pd.to_numeric(rows["worker_case_index"], errors="coerce")
        for metric in metrics:
            if metric not in rows:
                continue
            val = pd.to_numeric(rows[metric], errors="coerce")
            keep = pos.notna() & val.notna()
            if keep.sum() < MIN_REPEATS or pos[keep].nunique() < 2:
                continue
            x, y = pos[keep].to_numpy(float), val[keep].to_numpy(float)
            rho = spearman_rho(x, y)
            if not math.isnan(rho):  # a constant metric has no trend to test
                label = str(rows["case_label"].iloc[0])
                raw.append((label, metric, int(keep.sum()), rho, permutation_p(x, y), floor_p(x, y)))
    p = np.array([r[4] for r in raw], dtype=float)
    adjusted = holm(p)
    out = []
    for i, (label, metric, n, rho, pi, floor) in enumerate(raw):
        best = p.copy()
        best[i] = floor
        out.append(Trend(label, metric, n, rho, pi, float(adjusted[i]), bool(adjusted[i] < alpha), floor,
                         bool(holm(best)[i] < alpha), len(raw)))  # fmt: skip
    return out


def describe(trends: list[Trend], alpha: float = 0.01) -> list[str]:
    """One line per flagged trend, then one for the trends that could not have been flagged, for ``harness show``."""
    lines = [f"drift: {t.case_label}: {t.metric} trends with the worker's age "
             f"(Spearman rho {t.rho:+.2f}, n={t.n}, Holm p={t.p_holm:.3g})" for t in trends if t.flagged]  # fmt: skip
    blind = [t for t in trends if not t.detectable]
    if blind:
        ns = sorted({t.n for t in blind})
        family = blind[0].family
        lines.append(
            f"drift: cannot detect a trend in {len(blind)} of {len(trends)} case x metric series with "
            f"{'/'.join(map(str, ns))} repeats over {family} comparisons: the smallest possible p "
            f"({min(t.min_p for t in blind):.2g}) is not below Holm's alpha / {family} = {alpha / family:.2g}; "
            "'no drift' there means 'not testable', not 'none'"
        )  # fmt: skip
    return lines
