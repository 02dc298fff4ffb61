"""Does a measurement drift as its worker ages? A rank-trend test per case and metric.

Repeats of one case are meant to be draws from one distribution. A worker that
is reused across cases accumulates state (see ``harness.runner.parent.pool.RecyclePolicy``),
so each row records its position in its worker (``worker_case_index``: 0 for a
fresh worker's first case). For every case with at least :data:`MIN_REPEATS` ok
repeats at more than one position, this module tests whether a metric trends
with that position: Spearman's rank correlation, its two-sided p-value by an
exact-enough permutation test (numpy only, seeded; no normal approximation at
small n), and Holm's correction over the whole family (cases x metrics), so a
flag controls the chance of any false flag in a run at ``alpha``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_REPEATS = 6
PERMUTATIONS = 4000
DRIFT_METRICS = ("samples_per_s", "compile_s", "train_s")


def spearman_rho(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties); NaN when either side is constant."""
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    if rx.std() == 0 or ry.std() == 0:
        return math.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def permutation_p(x: np.ndarray, y: np.ndarray, n_perm: int = PERMUTATIONS, seed: int = 0) -> float:
    """Two-sided p-value of Spearman's rho under exchangeability ((count + 1) / (n_perm + 1))."""
    rho = spearman_rho(x, y)
    if math.isnan(rho):
        return math.nan
    rng = np.random.default_rng(seed)
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    rx = (rx - rx.mean()) / rx.std()
    perms = np.argsort(rng.random((n_perm, len(ry))), axis=1)
    ys = ry[perms]
    ys = (ys - ys.mean(axis=1, keepdims=True)) / ys.std(axis=1, keepdims=True)
    null = (ys * rx).mean(axis=1)
    return float((np.sum(np.abs(null) >= abs(rho) - 1e-12) + 1) / (n_perm + 1))


def holm(p: list[float]) -> list[float]:
    """Holm-adjusted p-values (NaN stays NaN and does not count in the family)."""
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    order = sorted(idx, key=lambda i: p[i])
    out, running = [math.nan] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        out[i] = running
    return out


@dataclass(frozen=True)
class Trend:
    case_label: str
    metric: str
    n: int
    rho: float
    p: float
    p_holm: float
    flagged: bool


def repeat_trends(cases: pd.DataFrame, metrics: tuple[str, ...] = DRIFT_METRICS,
                  alpha: float = 0.01) -> list[Trend]:
    """One :class:`Trend` per case and metric that can be tested (see the module docstring)."""
    if "worker_case_index" not in cases or cases.empty:
        return []
    ok = cases[cases["status"] == "ok"] if "status" in cases else cases
    raw: list[tuple[str, str, int, float, float]] = []
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
                raw.append((str(rows["case_label"].iloc[0]), metric, int(keep.sum()), rho, permutation_p(x, y)))
    adjusted = holm([r[4] for r in raw])
    return [Trend(label, metric, n, rho, p, pa, bool(pa < alpha))
            for (label, metric, n, rho, p), pa in zip(raw, adjusted, strict=True)]


def describe(trends: list[Trend]) -> list[str]:
    """One line per flagged trend, for ``harness show``."""
    return [f"drift: {t.case_label}: {t.metric} trends with the worker's age "
            f"(Spearman rho {t.rho:+.2f}, n={t.n}, Holm p={t.p_holm:.3g})" for t in trends if t.flagged]
