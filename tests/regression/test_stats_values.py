"""regression/stats.py with literal values worked out by hand (issue 30): the normal approximation
beyond 100 pooled repeats, the exact method's boundary, both branches of the exact tails (the
smaller side's table), tolerances, interval ranks, floors, Holm and BH caps, repeats needed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.regression import stats

# ---- which method ------------------------------------------------------------------------------


def test_exact_method_boundaries():
    assert stats.EXACT_MAX_N == 100 and stats.EXACT_BUDGET == 50_000_000
    assert stats.exact_method(50, 50)  # N = 100: exactly EXACT_MAX_N
    assert not stats.exact_method(50, 51)  # N = 101: 50 x 101**3 = 51,515,050 > 50,000,000
    assert not stats.exact_method(51, 50)  # the smaller side counts, whichever it is
    assert stats.exact_method(37, 73)  # N = 110: 37 x 1,331,000 = 49,247,000 <= 50,000,000
    assert not stats.exact_method(38, 72)  # 38 x 1,331,000 = 50,578,000 > 50,000,000
    assert stats.exact_method(3, 120)  # 3 x 123**3 = 5,582,601


# ---- the normal approximation ------------------------------------------------------------------


def test_normal_rank_sum_by_hand():
    # ranks 1..4, n = 2, observed 7: mean 2 x 5 / 2 = 5; var 2 x 2 / 12 x 5 = 5/3;
    # z = (7 - 5 - 0.5) / sqrt(5/3) = 1.161895; sf = 0.1226391
    assert stats._normal_rank_sum_greater(np.array([1.0, 2.0, 3.0, 4.0]), 2, 7.0) == pytest.approx(0.1226390584, rel=1e-9)
    # ties 1.5, 1.5, 3, 4: sum(t^3 - t) = 6, N (N - 1) = 12: var = 4/12 x (5 - 0.5) = 1.5;
    # z = 1.5 / sqrt(1.5) = 1.224745; sf = 0.1103357
    assert stats._normal_rank_sum_greater(np.array([1.5, 1.5, 3.0, 4.0]), 2, 7.0) == pytest.approx(0.1103356810, rel=1e-9)
    # ranks 1..6, n = 3, observed 15: mean 10.5, var 3 x 3 / 12 x 7 = 5.25; z = 4 / 2.291288 = 1.745743
    assert stats._normal_rank_sum_greater(np.arange(1.0, 7.0), 3, 15.0) == pytest.approx(0.0404277992, rel=1e-9)
    # ranks 1, 2, n = 1, observed 2: mean 1.5, var 1 x 1 / 12 x 3 = 0.25 (below 1); z = 0 / 0.5 = 0: sf 0.5
    assert stats._normal_rank_sum_greater(np.array([1.0, 2.0]), 1, 2.0) == 0.5
    # every rank tied: var = n (N - n) / 12 x ((N + 1) - (N^3 - N) / (N (N - 1))) = 0 exactly: p = 1
    assert stats._normal_rank_sum_greater(np.full(4, 2.5), 2, 5.0) == 1.0


def test_rank_sum_normal_path_60_v_60_without_ties():
    """x = 0..59, y = 30.5..89.5: ranks x 1..30 and 31, 33, .., 89; y 32, 34, .., 90 and 91..120.
    W_y = 30 x 61 + 30 x 105.5 = 4995; mean 60 x 121 / 2 = 3630; var 60 x 60 / 12 x 121 = 36300;
    z = (4995 - 3630 - 0.5) / 190.525589 = 7.161766; sf = 3.98217e-13."""
    x, y = np.arange(60.0), np.arange(60.0) + 30.5
    assert not stats.exact_method(60, 60)
    assert stats.rank_sum_greater(x, y) == pytest.approx(3.98217e-13, rel=1e-4, abs=0)
    assert stats.rank_sum_greater(y, x) == pytest.approx(1.0, abs=1e-12)  # the other direction


def test_rank_sum_normal_path_60_v_60_with_ties():
    """x: 30 x 0, 30 x 1; y: 30 x 1, 30 x 2. Mid-ranks 15.5 (0), 60.5 (1), 105.5 (2); W_y = 30 x 60.5 +
    30 x 105.5 = 4980; ties 30, 60, 30: sum(t^3 - t) = 269,880, / (120 x 119) = 18.899160;
    var = 300 x (121 - 18.899160) = 30630.252; z = 1349.5 / 175.014998 = 7.710770; sf = 6.2532e-15."""
    x, y = np.repeat([0.0, 1.0], 30), np.repeat([1.0, 2.0], 30)
    assert stats.rank_sum_greater(x, y) == pytest.approx(6.25317e-15, rel=1e-4, abs=0)


def test_min_p_floors():
    assert stats.min_p(0, 5) == 1.0 and stats.min_p(5, 0) == 1.0
    assert stats.min_p(1, 1) == 0.5  # 1 / C(2, 1)
    assert stats.min_p(1, 4) == 0.2  # 1 / C(5, 1)
    assert stats.min_p(3, 3) == 0.05  # 1 / C(6, 3) = 1/20
    # normal: z = sqrt(N - 1) (1 - 1 / (n_x n_y)); 60 v 60: sqrt(119) x (1 - 1/3600) = 10.905683
    assert stats.min_p(60, 60) == pytest.approx(5.413917e-28, rel=1e-6, abs=0)
    # 50 v 51: sqrt(100) x (1 - 1/2550) = 9.996078
    assert stats.min_p(50, 51) == pytest.approx(7.927596e-24, rel=1e-6, abs=0)
    # the same as the method's own p at complete separation with each side tied within itself
    tied = np.concatenate([np.full(60, 30.5), np.full(60, 90.5)])
    assert stats.min_p(60, 60) == pytest.approx(stats._normal_rank_sum_greater(tied, 60, 5430.0), rel=1e-9, abs=0)
    assert stats.min_p(60, 60) < stats.rank_sum_greater(np.arange(60.0), np.arange(60.0) + 60)  # untied: larger


# ---- the exact tails: both sides' tables, ties, tolerance ------------------------------------


def test_rank_sum_edges():
    assert stats.rank_sum_greater([], []) == 1.0
    assert stats.rank_sum_greater([1.0], [2.0]) == 0.5  # 1 v 1: one of two orders
    assert stats.rank_sum_greater([2.0], [1.0]) == 1.0
    assert stats.rank_sum_greater([3.0, 3.0], [3.0]) == 1.0  # all tied


def test_rank_sum_larger_current_side_without_ties():
    # y larger than x: the cdf of the x table. [1, 2] v [3, 4, 5]: complete separation, 1/C(5, 2) = 0.1
    assert stats.rank_sum_greater([1.0, 2.0], [3.0, 4.0, 5.0]) == pytest.approx(0.1, rel=1e-12)
    # [1, 3] v [2, 4, 5]: W_y = 11; triples of 1..5 with sum >= 11: {3,4,5}, {2,4,5}: 2/10
    assert stats.rank_sum_greater([1.0, 3.0], [2.0, 4.0, 5.0]) == pytest.approx(0.2, rel=1e-12)
    assert stats.rank_sum_greater([4.0, 5.0], [1.0, 2.0, 3.0]) == 1.0


def test_rank_sum_larger_current_side_with_ties():
    # doubled mid-ranks; P(W_y >= w) = P(W_x <= total - w), from the pairs of the x side
    # [1, 2] v [2, 3, 4]: doubled 2, 5, 5, 8, 10 (total 30); x = {2, 5}: 7; pairs <= 7: {2,5} twice: 2/10
    assert stats.rank_sum_greater([1.0, 2.0], [2.0, 3.0, 4.0]) == pytest.approx(0.2, rel=1e-12)
    # [2, 3] v [1, 3, 4]: doubled 2, 4, 7, 7, 10; x = {4, 7}: 11; pairs <= 11: {2,4} 6, {2,7} 9 twice,
    # {4,7} 11 twice: 5/10 (one more, {2,10} = 12, would make 6/10; one fewer bound 10: 3/10)
    assert stats.rank_sum_greater([2.0, 3.0], [1.0, 3.0, 4.0]) == pytest.approx(0.5, rel=1e-12)
    # the smaller current side, with ties: [2, 3, 3] v [3, 4]: ranks 1, 3, 3 | 3, 5; doubled 2, 6, 6 | 6, 10
    # W_y doubled 16; pairs of {2, 6, 6, 6, 10} with sum >= 16: {6,10} three times: 3/10
    assert stats.rank_sum_greater([2.0, 3.0, 3.0], [3.0, 4.0]) == pytest.approx(0.3, rel=1e-12)


def test_rank_sum_tolerance_makes_ties():
    # without a tolerance: complete separation, 1/20; with 0.5, 3.0 and 3.5 tie (a gap of exactly 0.5 is
    # not > 0.5): ranks 1, 2, 3.5 | 3.5, 5, 6; doubled triples >= 29 of {2, 4, 7, 7, 10, 12}: {7,10,12} twice
    assert stats.rank_sum_greater([1.0, 2.0, 3.0], [3.5, 5.0, 6.0]) == pytest.approx(0.05, rel=1e-12)
    assert stats.rank_sum_greater([1.0, 2.0, 3.0], [3.5, 5.0, 6.0], tol=0.5) == pytest.approx(0.1, rel=1e-12)


def test_tie_ranks_tolerance():
    assert stats.tie_ranks([1.0, 1.5, 3.0]).tolist() == [1.0, 2.0, 3.0]  # default: exact ties only
    assert stats.tie_ranks([1.0, 1.5, 3.0], tol=1.0).tolist() == [1.5, 1.5, 3.0]
    assert stats.tie_ranks([1.0, 2.0, 3.0], tol=0.5).tolist() == [1.0, 2.0, 3.0]  # every gap > 0.5
    assert stats.tie_ranks([1.0, 1.5], tol=0.5).tolist() == [1.5, 1.5]  # a gap of exactly tol: a tie
    assert stats.tie_ranks([1.0, 1.25, 5.0], tol=0.5).tolist() == [1.5, 1.5, 3.0]  # tol below 1
    assert stats.tie_ranks([3.0, 1.0, 1.25, 9.0, 3.1], tol=0.25).tolist() == [3.5, 1.5, 1.5, 5.0, 3.5]


# ---- intervals ----------------------------------------------------------------------------------


def test_interval_rank_by_hand():
    # 3 v 3 at 90 %: tail (1 - 9/10) / 2 = 1/20; P(U <= 0) = 1/20 exactly: k = 1 (<= counts)
    assert stats.interval_rank(3, 3, 0.9) == 1
    assert stats.interval_rank(3, 3, 0.95) == 0  # tail 1/40 < 1/20: unbounded
    # 4 v 4 at 90 %: U counts 1, 1, 2, 3, 5, ...; cumulative 1, 2, 4, 7 of 70; 70/20 = 3.5: k = 2
    assert stats.interval_rank(4, 4, 0.9) == 2
    # normal (N > 100): floor(n_x n_y / 2 - z sqrt(n_x n_y (N + 1) / 12)), z = 1.644854 at 90 %
    assert stats.interval_rank(60, 60, 0.9) == 1486  # 1800 - 1.644854 x sqrt(36300) = 1486.61
    assert stats.interval_rank(60, 80, 0.9) == 2009  # 2400 - 1.644854 x sqrt(56400) = 2009.37
    assert stats.interval_rank(50, 51, 0.95) == 986  # 1275 - 1.959964 x sqrt(21675) = 986.44


def test_shift_interval_by_hand():
    # differences of [10, 11, 12] - [0, 1, 2]: 8, 9, 9, 10, 10, 10, 11, 11, 12; k = 1: (8, 12); median 10
    assert stats.shift_interval([0.0, 1.0, 2.0], [10.0, 11.0, 12.0]) == (10.0, 8.0, 12.0)  # default 90 %
    assert stats.shift_interval([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], 0.95) == (10.0, -math.inf, math.inf)
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="confidence must be in"):
            stats.shift_interval([0.0, 1.0, 2.0], [10.0, 11.0, 12.0], bad)


# ---- corrections, spread, repeats needed -------------------------------------------------------


def test_holm_and_bh_caps():
    assert stats.holm([0.6, 0.7]).tolist() == [1.0, 1.0]  # 2 x 0.6 = 1.2, capped at 1
    assert stats.holm([0.3, 0.2]).tolist() == [0.4, 0.4]  # 2 x 0.2 = 0.4; max(0.4, 1 x 0.3) = 0.4
    # BH clips p into [0, 1] first: 1.5 -> 1; sorted 0.01, 1: 0.01 x 2 / 1 = 0.02, 1 x 2 / 2 = 1
    assert stats.benjamini_hochberg([1.5, 0.01]).tolist() == pytest.approx([1.0, 0.02], rel=1e-12)
    assert stats.benjamini_hochberg([-0.25, 0.5]).tolist() == [0.0, 0.5]  # -0.25 -> 0
    assert np.isnan(stats.benjamini_hochberg([np.nan, 0.2])[0]) and stats.benjamini_hochberg([np.nan, 0.2])[1] == 0.2


def test_robust_cv_of_two_values():
    # median 2; absolute deviations 1, 1: MAD 1; 1.4826 x 1 / 2 = 0.7413
    assert stats.robust_cv([1.0, 3.0]) == pytest.approx(0.7413, rel=1e-12)
    assert math.isnan(stats.robust_cv([3.0])) and math.isnan(stats.robust_cv([-1.0, 1.0]))


def test_repeats_needed_by_hand():
    # n v n complete separation: 1/C(2n, n): n=1 1/2, n=2 1/6, n=3 1/20, n=4 1/70
    assert stats.repeats_needed(1, 0.05) == 4  # 1/20 is not < 0.05; 1/70 is
    assert stats.repeats_needed(1, 0.06) == 3  # 1/20 < 0.06
    assert stats.repeats_needed(0, 0.06) == 3  # a family of 0 counts as 1
    assert stats.repeats_needed(2, 0.06) == 4  # 2/20 = 0.1; 2/70 = 0.029
    assert stats.repeats_needed(1, 0.6) == 1  # 1/2 < 0.6
    assert stats.repeats_needed(1, 0.05, limit=5) == 4  # found one below the limit
    assert stats.repeats_needed(1, 0.05, limit=4) == 4  # found at exactly the limit
    assert stats.repeats_needed(1, 0.05, limit=3) == 3  # not found: the limit
    assert stats.repeats_needed(1, 0.0) == 1000  # never: the default limit
