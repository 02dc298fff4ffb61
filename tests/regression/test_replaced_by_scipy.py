"""Hand-written statistics replaced by SciPy / the shared implementation (issue 29, from issue 23):
each equals the code it replaces on the cases the tests already had. The replaced code is kept
here, verbatim in substance, as the reference."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.regression import drift, stats


def _old_benjamini_hochberg(pvalues):
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


def _old_drift_holm(p):
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    order = sorted(idx, key=lambda i: p[i])
    out, running = [math.nan] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p[i]))
        out[i] = running
    return out


def _old_permutation_p(x, y, n_perm=4000, seed=0):  # the old default: 4000 draws
    rho = drift.spearman_rho(x, y)
    rng = np.random.default_rng(seed)
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    rx = (rx - rx.mean()) / rx.std()
    perms = np.argsort(rng.random((n_perm, len(ry))), axis=1)
    ys = ry[perms]
    ys = (ys - ys.mean(axis=1, keepdims=True)) / ys.std(axis=1, keepdims=True)
    null = (ys * rx).mean(axis=1)
    return float((np.sum(np.abs(null) >= abs(rho) - 1e-12) + 1) / (n_perm + 1))


CASES = [np.array([0.01, 0.04, 0.03, np.nan, 0.005]), np.random.default_rng(0).random(20) ** 2,
         np.array([0.05, 0.05, 0.05]), np.array([np.nan]), np.array([]), np.array([1.0, 0.0, 0.5])]  # fmt: skip


@pytest.mark.parametrize("p", CASES)
def test_bh_by_scipy_equals_the_old_code(p):
    np.testing.assert_allclose(stats.benjamini_hochberg(p), _old_benjamini_hochberg(p), rtol=1e-12)


@pytest.mark.parametrize("p", CASES)
def test_drift_uses_the_shared_holm_equal_to_its_old_copy(p):
    assert not hasattr(drift, "holm") or drift.holm is stats.holm
    np.testing.assert_allclose(stats.holm(p), np.array(_old_drift_holm(list(p)), dtype=float), rtol=1e-12)


def test_drift_permutation_p_equals_the_old_numpy_test():
    """The drift tests' series: the planted trend and the noise; equal within Monte Carlo error (4000 draws)."""
    rng = np.random.default_rng(1)
    noise = 1e5 * np.exp(rng.normal(0, 0.05, 40))
    aging = noise * np.linspace(1.0, 0.7, 40)
    pos = np.arange(40.0)
    for y in (noise, aging, 1 / noise, 1 / aging):
        new, old = drift.permutation_p(pos, y), _old_permutation_p(pos, y)
        assert abs(new - old) <= 4 * math.sqrt(max(old, 1e-3) * (1 - old) / 4000) + 2 / 4001, (new, old)
    # exact enumeration (6 repeats: 720 pairings) vs the old Monte Carlo on the same case
    y6 = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0])
    new, old = drift.permutation_p(np.arange(6.0), y6), _old_permutation_p(np.arange(6.0), y6)
    assert abs(new - old) <= 4 * math.sqrt(old * (1 - old) / 4000), (new, old)
