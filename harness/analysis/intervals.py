"""Spread over repeats and rankings that admit ties.

A configuration's figure is the median over its repeats, its interval the
range (min to max) over those repeats: with the 1 to 5 repeats a benchmark
affords, the range is the honest interval (a 95 % t-interval over 2 repeats is
12.7 sample deviations wide; a bootstrap of 3 values is the range anyway).
Two configurations whose intervals overlap are *tied*: nothing in the data
orders them. One repeat gives a point and no interval, which is said plainly.
"""

from __future__ import annotations

import numpy as np

NO_INTERVAL = "1 repeat: no interval"


def interval_text(repeats: int) -> str:
    """How a row's interval was obtained, in words."""
    if repeats <= 0:
        return "no ok repeat"
    if repeats == 1:
        return NO_INTERVAL
    return f"min–max over {repeats} repeats"


def ranks_with_ties(lo: np.ndarray, hi: np.ndarray, *, smaller_is_better: bool) -> np.ndarray:
    """Competition ranks where overlapping intervals tie.

    Rank of i = 1 + the number of rows that are better than i beyond doubt, that
    is whose whole interval lies on the better side of i's interval. Rows with
    NaN bounds get NaN. With points (one repeat), this is the usual ranking
    with equal values tied.
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    out = np.full(lo.shape, np.nan)
    valid = ~(np.isnan(lo) | np.isnan(hi))
    for i in np.flatnonzero(valid):
        better = hi[valid] < lo[i] if smaller_is_better else lo[valid] > hi[i]
        out[i] = 1 + int(np.count_nonzero(better))
    return out


def overlaps(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """True where a row's interval overlaps another row's: the data cannot order the two."""
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    out = np.zeros(lo.shape, dtype=bool)
    valid = np.flatnonzero(~(np.isnan(lo) | np.isnan(hi)))
    for i in valid:
        others = valid[valid != i]
        out[i] = bool(np.any((lo[others] <= hi[i]) & (lo[i] <= hi[others])))
    return out
