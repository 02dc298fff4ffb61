"""Small statistics for regression decisions: robust spread, bootstrap, Mann-Whitney, Holm.

Everything works on plain 1-D float arrays of *repeats* (one value per case x
repeat); NaN values must be dropped by the caller.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

MAD_TO_SD = 1.4826  # scale of the median absolute deviation for a normal distribution


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


def _center(samples: np.ndarray, statistic: str) -> np.ndarray:
    if statistic == "median":
        return np.median(samples, axis=-1)
    if statistic == "mean":
        return np.mean(samples, axis=-1)
    raise ValueError(f"statistic must be 'median' or 'mean'. Received: statistic={statistic!r}")


def bootstrap_ratio_ci(
    base: np.ndarray,
    current: np.ndarray,
    *,
    statistic: str = "median",
    confidence: float = 0.95,
    n_resamples: int = 2000,
    rng: np.random.Generator | None = None,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``stat(current) / stat(base)`` (two-sided, ``confidence``).

    Each side is resampled independently with replacement (the two sides are
    independent samples); vectorised: one ``(n_resamples, n)`` index draw per side.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1). Received: confidence={confidence}")
    b = np.asarray(base, dtype=float)
    c = np.asarray(current, dtype=float)
    rng = rng if rng is not None else np.random.default_rng(0)
    sb = _center(b[rng.integers(0, b.size, (n_resamples, b.size))], statistic)
    sc = _center(c[rng.integers(0, c.size, (n_resamples, c.size))], statistic)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = sc / sb
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(ratios, [tail, 1.0 - tail])
    return float(lo), float(hi)


def mann_whitney_greater(x: np.ndarray, y: np.ndarray) -> float:
    """One-sided p-value that ``x`` tends to be larger than ``y`` (SciPy's Mann-Whitney U).

    SciPy picks the exact distribution for small samples without ties and the
    normal approximation (with tie and continuity correction) otherwise. Both
    sides constant and equal gives p = 1 (no evidence of a shift).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.ptp(np.concatenate([x, y])) == 0.0:
        return 1.0
    return float(sps.mannwhitneyu(x, y, alternative="greater").pvalue)


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
    """Benjamini-Hochberg adjusted p-values (false-discovery-rate control). NaN stays NaN."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out[order] = np.minimum(adjusted, 1.0)
    return out


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg, "none": lambda p: np.asarray(p, float)}
