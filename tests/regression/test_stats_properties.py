"""Property tests of every statistic the gate uses, against SciPy and statsmodels (issue 29).

Ties, unequal n, n up to 1,000 a side, values exactly on a threshold. Data are drawn with
numpy from a Hypothesis-chosen seed, sizes and number of distinct values (few distinct values:
many ties), so examples stay cheap at large n.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from harness.regression import decide, drift, stats

multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _data(seed: int, n_x: int, n_y: int, levels: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, levels, n_x).astype(float)
    y = rng.integers(0, levels, n_y).astype(float) + shift
    return x, y


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(2, 7), st.integers(2, 7), st.integers(2, 6), st.sampled_from([0, 1]))
def test_rank_sum_equals_exhaustive_permutation_test(seed, n_x, n_y, levels, shift):
    x, y = _data(seed, n_x, n_y, levels, shift)
    if np.ptp(np.concatenate([x, y])) == 0:
        assert stats.rank_sum_greater(x, y) == 1.0
        return

    def stat(u, v, axis=-1):
        return sps.rankdata(np.concatenate([u, v], axis=axis), axis=axis)[..., : u.shape[axis]].sum(axis=axis)

    ref = sps.permutation_test((y, x), stat, permutation_type="independent", alternative="greater",
                               n_resamples=np.inf, vectorized=True).pvalue  # fmt: skip
    assert stats.rank_sum_greater(x, y) == pytest.approx(ref, rel=1e-9)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 60), st.integers(1, 60))
def test_rank_sum_without_ties_equals_mannwhitneyu_exact(seed, n_x, n_y):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(0, 1, n_x), rng.normal(0.3, 1, n_y)
    if not stats.exact_method(n_x, n_y):
        return
    ref = sps.mannwhitneyu(y, x, alternative="greater", method="exact").pvalue
    assert stats.rank_sum_greater(x, y) == pytest.approx(ref, rel=1e-9, abs=1e-300)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 1000), st.integers(1, 1000), st.integers(2, 400))
def test_rank_sum_normal_path_equals_mannwhitneyu_asymptotic(seed, n_x, n_y, levels):
    x, y = _data(seed, n_x, n_y, levels)
    if stats.exact_method(n_x, n_y) or np.ptp(np.concatenate([x, y])) == 0:
        return
    ref = sps.mannwhitneyu(y, x, alternative="greater", method="asymptotic", use_continuity=True).pvalue
    assert stats.rank_sum_greater(x, y) == pytest.approx(ref, rel=1e-9, abs=1e-300)
    assert stats.min_p(n_x, n_y) <= stats.rank_sum_greater(x, y + 10 * levels) * (1 + 1e-9)


@FAST
@given(st.integers(1, 1000), st.integers(1, 1000))
def test_floor_is_the_complete_separation_p(n_x, n_y):
    x, y = np.arange(float(n_x)), np.arange(float(n_y)) + n_x
    p = stats.min_p(n_x, n_y)
    assert 0.0 <= p <= 1.0
    if stats.exact_method(n_x, n_y):  # exact: 1 / C(N, n), and complete separation attains it
        assert p == float(Fraction(1, math.comb(n_x + n_y, n_x)))
        assert stats.rank_sum_greater(x, y) == pytest.approx(p, rel=1e-9, abs=1e-300)
    else:  # normal: the floor allows for ties within each side, which shrink the variance
        assert p <= stats.rank_sum_greater(x, y) * (1 + 1e-9)
        tied = stats.rank_sum_greater(np.zeros(n_x), np.ones(n_y))
        assert p == pytest.approx(min(tied, stats.rank_sum_greater(x, y)), rel=1e-9, abs=1e-300)


def _u_cdf_brute(n_x: int, n_y: int) -> list[Fraction]:
    big_n = n_x + n_y
    counts: dict[int, int] = {}
    for pick in itertools.combinations(range(1, big_n + 1), n_y):
        u = sum(pick) - n_y * (n_y + 1) // 2
        counts[u] = counts.get(u, 0) + 1
    total, run, out = math.comb(big_n, n_y), 0, []
    for u in range(n_x * n_y + 1):
        run += counts.get(u, 0)
        out.append(Fraction(run, total))
    return out


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_rank_equals_brute_force(n_x, n_y, confidence):
    tail = (1 - Fraction(str(confidence))) / 2
    cdf = _u_cdf_brute(n_x, n_y)
    assert stats.interval_rank(n_x, n_y, confidence) == sum(1 for c in cdf if c <= tail)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(1, 30), st.integers(1, 30))
def test_hodges_lehmann_is_the_median_of_pairwise_differences(seed, n_x, n_y):
    rng = np.random.default_rng(seed)
    x, y = np.round(rng.normal(0, 1, n_x), 1), np.round(rng.normal(0.5, 1, n_y), 1)
    est, lo, hi = stats.shift_interval(x, y, 0.9)
    assert est == np.median(np.subtract.outer(y, x)) and lo <= est <= hi


@FAST
@given(st.lists(st.one_of(st.floats(0, 1), st.just(0.0), st.just(1.0), st.just(0.05)), min_size=1, max_size=60))
def test_holm_and_bh_equal_statsmodels(p):
    p = np.array(p)
    with mock.patch("gc.collect"):  # statsmodels' Holm runs a full gc.collect() per call (0.25 s here)
        ref_holm = multipletests(p, method="holm")[1]
    np.testing.assert_allclose(stats.holm(p), ref_holm, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(stats.benjamini_hochberg(p), multipletests(p, method="fdr_bh")[1], rtol=1e-12,
                               atol=1e-15)  # fmt: skip


@FAST
@given(st.floats(1e-3, 1e3), st.sampled_from([0.01, 0.03, 0.05, 0.1, 0.25]), st.integers(3, 40), st.booleans())
def test_values_exactly_on_the_threshold_are_never_decided(base, delta, n, hib):
    """Every pair of repeats differs by exactly 1 + delta: not a regression, not an improvement, not 'within'."""
    verdict, a = decide.decide_one(np.full(n, base), np.full(n, base * (1 + delta)), higher_is_better=hib,
                                   threshold=delta)  # fmt: skip
    assert verdict == decide.INCONCLUSIVE and "threshold itself" in a.reason
    assert min(a.p_worse, a.p_better, a.p_within) == pytest.approx(1.0)


def _exact_spearman_p(x: np.ndarray, y: np.ndarray) -> float:
    """SciPy's two-sided rule over every pairing, in integers: rho is affine in sum(2 rx * 2 ry)."""
    rx, ry = (2 * sps.rankdata(x)).astype(int), (2 * sps.rankdata(y)).astype(int)
    obs = int(rx @ ry)
    sums = [int(np.dot(p, ry)) for p in itertools.permutations(rx)]
    less = Fraction(sum(s <= obs for s in sums), len(sums))
    greater = Fraction(sum(s >= obs for s in sums), len(sums))
    return float(min(1, 2 * min(less, greater)))


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(3, 6), st.integers(2, 6))
def test_drift_permutation_p_equals_scipy_pearsonr_permutation(seed, n, levels):
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, levels, n).astype(float), rng.integers(0, levels, n).astype(float)
    rx, ry = sps.rankdata(x), sps.rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        assert math.isnan(drift.permutation_p(x, y))
        return
    p = drift.permutation_p(x, y)
    assert p == pytest.approx(_exact_spearman_p(x, y), rel=1e-12)
    rho = drift.spearman_rho(x, y)
    assert rho == pytest.approx(sps.spearmanr(x, y).statistic, rel=1e-12)
    if abs(rho) > 1e-6:  # at rho = 0 SciPy's own float noise decides which nulls count as ties
        method = sps.PermutationMethod(n_resamples=math.factorial(n))
        assert p == pytest.approx(sps.pearsonr(rx, ry, method=method).pvalue, rel=1e-9)
    floor = drift.floor_p(x, y)
    assert floor <= p + 1e-12
    assert floor == min(_exact_spearman_p(np.sort(x), np.sort(y)), _exact_spearman_p(np.sort(x), np.sort(y)[::-1]))
