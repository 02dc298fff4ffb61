"""The decision's arithmetic pinned at its boundaries with hand-computed values.

Exactly alpha (3 v 3 complete separation gives p = 1/C(6,3) = 0.05, which is *not* below
0.05), exactly the minimum number of repeats, exactly the threshold, Holm's multiplier,
Hodges-Lehmann, and the direction of a regression for both kinds of metric.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.regression import decide, stats

BASE3 = [1.00, 1.01, 1.02]
SLOW3 = [2.00, 2.01, 2.02]  # every current repeat worse than every baseline one


def test_exact_rank_sum_p_values_by_hand():
    # 3 v 3: C(6,3) = 20 splits; complete separation is 1 of them, one swap 2 of them
    assert stats.rank_sum_greater([1, 2, 3], [4, 5, 6]) == pytest.approx(1 / 20, abs=1e-15)
    assert stats.rank_sum_greater([1, 2, 4], [3, 5, 6]) == pytest.approx(2 / 20, abs=1e-15)
    assert stats.rank_sum_greater([4, 5, 6], [1, 2, 3]) == pytest.approx(1.0)
    # 4 v 4: 1 / C(8,4) = 1/70
    assert stats.rank_sum_greater([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(1 / 70, abs=1e-15)
    # ties: x = [1, 2, 2], y = [2, 3, 4]; mid-ranks 1, 3, 3 | 3, 5, 6 -> W = 14. Of the 20 splits
    # of (1, 3, 3, 3, 5, 6), only {3, 5, 6} (three ways: three 3s) reach 14 -> p = 3/20
    assert stats.rank_sum_greater([1, 2, 2], [2, 3, 4]) == pytest.approx(3 / 20, abs=1e-15)
    assert stats.rank_sum_greater([5, 5], [5, 5]) == 1.0


def test_min_p_reachable_and_repeats_needed_by_hand():
    assert stats.min_p(3, 3) == pytest.approx(0.05, abs=1e-15)
    assert stats.min_p(4, 4) == pytest.approx(1 / 70, abs=1e-15)
    assert stats.min_p(0, 4) == 1.0
    assert stats.reachable(3, 3, 1, 0.05) is False  # 0.05 is not < 0.05
    assert stats.reachable(4, 4, 3, 0.05) is True  # 3/70 = 0.0429
    assert stats.reachable(4, 4, 4, 0.05) is False  # 4/70 = 0.0571
    assert stats.repeats_needed(1, 0.05) == 4
    assert stats.repeats_needed(4, 0.05) == 5  # 4/252 = 0.0159


def test_p_exactly_alpha_is_not_a_regression():
    """3 v 3 fully separated: p_worse = 0.05 exactly; with alpha 0.05 the verdict is inconclusive."""
    verdict, a = decide.decide_one(np.array(BASE3), np.array(SLOW3), higher_is_better=False)
    assert a.p_worse == pytest.approx(0.05, abs=1e-15)
    assert verdict == decide.INCONCLUSIVE
    assert "need >= 4 repeats a side" in a.reason
    # the same data just above alpha's boundary: alpha 0.0501 rejects
    verdict, _ = decide.decide_one(np.array(BASE3), np.array(SLOW3), higher_is_better=False,
                                   settings=decide.Settings(alpha=0.0501))
    assert verdict == decide.REGRESSION


def test_p_exactly_alpha_is_not_an_improvement_nor_no_change():
    verdict, a = decide.decide_one(np.array(SLOW3), np.array(BASE3), higher_is_better=False)
    assert a.p_better == pytest.approx(0.05, abs=1e-15)
    assert verdict == decide.INCONCLUSIVE
    # within: 3 v 3 identical-ish repeats give p_within >= 0.05 at best -> never no_change
    verdict, a = decide.decide_one(np.array(BASE3), np.array([1.001, 1.011, 1.021]), higher_is_better=False)
    assert a.p_within >= 0.05
    assert verdict == decide.INCONCLUSIVE


def test_p_within_below_alpha_is_no_change():
    base = np.array([1.00, 1.01, 1.02, 1.03])
    verdict, a = decide.decide_one(base, base * 1.001, higher_is_better=False)
    # both shifted tests fully separated: max(1/70, 1/70)
    assert a.p_within == pytest.approx(1 / 70, abs=1e-15)
    assert verdict == decide.NO_CHANGE


def test_four_repeats_decide_and_direction_follows_the_metric():
    base = np.array([1.00, 1.01, 1.02, 1.03])
    slower = base * 2.0
    v, a = decide.decide_one(base, slower, higher_is_better=False)  # e.g. train_s doubled
    assert (v, a.p_worse) == (decide.REGRESSION, pytest.approx(1 / 70, abs=1e-15))
    assert a.change == pytest.approx(1.0)
    v, a = decide.decide_one(base, slower, higher_is_better=True)  # e.g. samples_per_s doubled
    assert (v, a.p_better) == (decide.IMPROVEMENT, pytest.approx(1 / 70, abs=1e-15))
    assert a.change == pytest.approx(1.0)
    v, _ = decide.decide_one(slower, base, higher_is_better=True)  # throughput halved
    assert v == decide.REGRESSION
    v, _ = decide.decide_one(slower, base, higher_is_better=False)  # time halved
    assert v == decide.IMPROVEMENT


def test_exactly_the_minimum_repeats():
    s = decide.Settings(min_repeats=3, alpha=0.0501)
    v, a = decide.decide_one(np.array(BASE3), np.array(SLOW3), higher_is_better=False, settings=s)
    assert v == decide.REGRESSION  # 3 is enough
    v, a = decide.decide_one(np.array(BASE3[:2]), np.array(SLOW3), higher_is_better=False, settings=s)
    assert v == decide.INCONCLUSIVE
    assert a.reason == "too few repeats (2 baseline, 3 current; need 3 each)"
    assert a.p_worse == 1.0
    s4 = decide.Settings(min_repeats=4)
    v, a = decide.decide_one(np.array(BASE3), np.array(SLOW3), higher_is_better=False, settings=s4)
    assert a.reason.startswith("too few repeats (3 baseline, 3 current; need 4 each)")


def test_a_change_of_exactly_the_threshold_is_not_a_regression():
    """Current = base * 1.25 exactly (binary-exact values): worse by 25 %, threshold 25 %."""
    base = np.array([1.0, 1.0625, 1.125, 1.1875])
    v, a = decide.decide_one(base, base * 1.25, higher_is_better=False, threshold=0.25)
    assert v != decide.REGRESSION
    assert a.change == 0.25
    v, a = decide.decide_one(base, base * 2.5, higher_is_better=False, threshold=0.25)
    assert v == decide.REGRESSION  # 150 % worse, fully separated after the shift: p = 1/70
    assert a.p_worse == pytest.approx(1 / 70, abs=1e-15)


def test_holm_multiplier_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 x 0.01, 2 x 0.03, max(1 x 0.04, 0.06)
    adj = stats.holm(np.array([0.01, 0.04, 0.03]))
    assert adj.tolist() == pytest.approx([0.03, 0.06, 0.06], abs=1e-15)
    assert stats.holm(np.array([0.5, 0.6])).tolist() == pytest.approx([1.0, 1.0])
    out = stats.holm(np.array([0.01, np.nan, 0.02]))  # NaN leaves the family: m = 2
    assert out[0] == pytest.approx(0.02) and math.isnan(out[1]) and out[2] == pytest.approx(0.02)
    assert np.isnan(stats.holm(np.array([np.nan]))).all()


def test_benjamini_hochberg_by_hand():
    # sorted 0.01, 0.03, 0.04 (m = 3): 0.03, 0.045, 0.04 -> step-up minimum: 0.03, 0.04, 0.04
    adj = stats.benjamini_hochberg(np.array([0.01, 0.04, 0.03]))
    assert adj.tolist() == pytest.approx([0.03, 0.04, 0.04], abs=1e-15)


def test_holm_makes_a_family_of_two_miss_what_one_catches():
    base = np.array([1.00, 1.01, 1.02, 1.03])
    worse = decide.Item(base, base * 2, False)
    same = decide.Item(base, base * 1.001, False)
    one = decide.decide_family([worse])[0]
    assert one.p_worse_adj == pytest.approx(1 / 70, abs=1e-15)
    two = decide.decide_family([worse, same])
    assert two[0].p_worse_adj == pytest.approx(2 / 70, abs=1e-15)
    assert two[0].verdict == decide.REGRESSION
    four = decide.decide_family([worse, same, same, same])  # 4/70 = 0.057: not below alpha
    assert four[0].p_worse_adj == pytest.approx(4 / 70, abs=1e-15)
    assert four[0].verdict == decide.INCONCLUSIVE
    assert not four[0].reachable


def test_hodges_lehmann_and_moses_interval_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([4.0, 6.0, 9.0, 10.0])
    # the 16 differences y - x sorted: 0 1 2 2 3 3 4 5 | 5 6 6 7 7 8 8 9 -> median (5 + 5) / 2 = 5
    est, lo, hi = stats.shift_interval(x, y, 0.90)
    assert est == 5.0
    # 4 v 4: P(U <= 0) = 1/70, P(U <= 1) = 2/70 <= 0.05 < P(U <= 2) = 4/70 -> k = 2:
    # the 2nd smallest and the 2nd largest difference
    assert (lo, hi) == (1.0, 8.0)
    est, lo, hi = stats.shift_interval(x, y, 0.99)  # tail 0.005 < 1/70: no interval
    assert (lo, hi) == (-math.inf, math.inf)
    with pytest.raises(ValueError, match="confidence"):
        stats.shift_interval(x, y, 1.0)


def test_robust_cv_by_hand():
    # median 2, MAD 1 (|1-2|, |2-2|, |3-2| -> 1), scaled by 1.4826
    assert stats.robust_cv(np.array([1.0, 2.0, 3.0])) == pytest.approx(1.4826 / 2, rel=1e-4)


def test_reachability_at_exactly_alpha_by_hand():
    from harness.regression import power

    r = power.reachability(cases=1, metrics_per_case=1, repeats=3)
    assert (r.family, r.min_p, r.needed, r.reachable) == (1, pytest.approx(0.05, abs=1e-15), 4, False)
    assert r.message() == ("gate: 1 gated comparison(s), 3 repeats a side, alpha 0.05: CANNOT DECIDE: the "
                           "smallest possible p is 0.05, and Holm over 1 needs < 0.05; use >= 4 repeats a side")
    r = power.reachability(cases=3, metrics_per_case=1, repeats=4)  # 3/70 = 0.043 < 0.05
    assert r.reachable and r.message() == ("gate: 3 gated comparison(s), 4 repeats a side, alpha 0.05: "
                                           "a verdict is reachable (smallest p 0.014)")
    r = power.reachability(cases=2, metrics_per_case=2, repeats=4)  # 4/70 = 0.057
    assert (r.family, r.reachable, r.needed) == (4, False, 5)
    assert "Holm over 4 needs < 0.013; use >= 5 repeats a side" in r.message()  # 0.05 / 4, 2 digits
    assert power.reachability(cases=0, metrics_per_case=3, repeats=4).family == 1
    assert power.reachability(cases=1, metrics_per_case=1, repeats=3, alpha=0.0501).reachable


def test_reasons_by_hand():
    base = np.array([1.00, 1.01, 1.02, 1.03])
    # 4 v 4 Moses interval, k = 2: the 2nd smallest ratio 1.00/1.02 and the 2nd largest 1.02/1.00,
    # times 2: 1.9608 and 2.04 -> +96.1 % .. +104.0 %
    v, a = decide.decide_one(base, base * 2, higher_is_better=False)
    assert a.reason == "+100.0% (CI +96.1% .. +104.0%): worse by more than 5%, p=0.014 < 0.05"
    v, a = decide.decide_one(base, base * 2, higher_is_better=True)
    assert a.reason == "+100.0% (CI +96.1% .. +104.0%): better by more than 5%, p=0.014 < 0.05"
    v, a = decide.decide_one(base, base * 1.001, higher_is_better=False)
    assert a.reason == "+0.1% (CI -1.9% .. +2.1%): within ±5% (p=0.014)"
    # median 1.05, MAD 0.1: robust CV 1.4826 x 0.1 / 1.05 = 14.1 % > 10 %: noisy
    v, a = decide.decide_one(base, np.array([1.0, 1.2, 0.9, 1.1]), higher_is_better=False)
    assert (v, a.noisy) == (decide.INCONCLUSIVE, True)
    assert a.reason.endswith("a change of 5% or more is not ruled out; add repeats; noisy (robust CV 14.1%)")


def test_early_verdicts():
    v, a = decide.decide_one(np.ones(3), np.ones(3), higher_is_better=False)
    assert (v, a.reason, a.ci_low, a.ci_high) == (decide.NO_CHANGE, "identical on both sides", 0.0, 0.0)
    v, a = decide.decide_one(np.array([1.0, 2.0, 0.0]), np.ones(3), higher_is_better=False)
    assert (v, a.reason) == (decide.INCONCLUSIVE, "values <= 0: the decision works on ratios (log values)")
    d = decide.decide_family([decide.Item(np.ones(4), np.ones(4) * 2, False, blocked="different machines")])[0]
    assert (d.verdict, d.reason, d.reachable) == (decide.NOT_COMPARABLE, "different machines", True)
    d = decide.decide_family([decide.Item(np.ones(2), np.ones(4), False)])[0]
    assert d.reachable is False  # too few repeats: more repeats could help
    nan = decide.decide_family([decide.Item(np.array([1.0, np.nan, 1.1, 1.2]), np.array([2.0, 2.1, 2.2]), False)])
    assert nan[0].assessment.n_base == 3  # non-finite repeats are dropped before counting


def test_centre_statistic_and_change_by_hand():
    base, cur = np.array([1.0, 2.0, 6.0]), np.array([2.0, 2.0, 11.0])
    _, a = decide.decide_one(base, cur, higher_is_better=False, statistic="mean")
    assert (a.base_stat, a.current_stat, a.change) == (3.0, 5.0, pytest.approx(2 / 3))
    _, a = decide.decide_one(base, cur, higher_is_better=False)  # median: 2 and 2
    assert (a.base_stat, a.current_stat, a.change) == (2.0, 2.0, 0.0)
    with pytest.raises(ValueError, match="statistic must be 'median' or 'mean'. Received: statistic='mode'"):
        decide.decide_one(base, cur, higher_is_better=False, statistic="mode")


def test_describe_without_repeats_or_with_a_zero_centre():
    _, a = decide.decide_one(np.array([]), np.array([1.0, 2.0, 3.0]), higher_is_better=False)
    assert (a.n_base, a.n_current, a.current_stat) == (0, 3, 2.0)
    assert math.isnan(a.base_stat) and math.isnan(a.change) and math.isnan(a.ci_low) and math.isnan(a.ci_high)
    _, a = decide.decide_one(np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0]), higher_is_better=False)
    assert a.base_stat == 0.0 and math.isnan(a.change)  # a zero median: no ratio
    _, a = decide.decide_one(np.array([1.0, 1.0, 3.0]), np.array([2.0, 2.0, 2.0]), higher_is_better=False)
    assert a.change == 1.0  # base median exactly 1
    _, a = decide.decide_one(np.array(["1.0", "2.0", "3.0"]), np.array([2.0, 4.0, 6.0]), higher_is_better=False)
    assert a.base_stat == 2.0  # repeats read as floats


def test_detection_estimate_is_a_share_of_simulated_builds():
    from harness.regression import power

    # +10 % on one case at 1 % CV: 5 repeats catch it in every build, 3 repeats never can (p >= 0.05)
    assert power.detection_estimate(1, 5, 0.05, 0.05, cv=0.01, builds=20) == 1.0
    assert power.detection_estimate(1, 3, 0.05, 0.05, cv=0.01, builds=20) == 0.0


def test_reasons_without_an_interval_and_flags_of_decided_verdicts():
    v, a = decide.decide_one(np.array(BASE3), np.array(SLOW3), higher_is_better=False,
                             settings=decide.Settings(confidence=0.95))
    # 3 v 3 has no 95 % interval (1/20 > 0.025): its ends are expm1(-inf) = -1 and +inf: no "(CI ...)"
    assert a.ci_low == -1.0 and math.isinf(a.ci_high) and a.reason.startswith("+99.0%: cannot decide")
    base = np.array([1.00, 1.01, 1.02, 1.03])
    for cur, hib in ((base * 2, False), (base * 2, True), (base * 1.001, False)):
        d = decide.decide_family([decide.Item(base, cur, hib)])[0]
        assert d.reachable is True
    d = decide.decide_family([decide.Item(base, base * 2, True)])[0]
    assert (d.verdict, d.p_better_adj) == (decide.IMPROVEMENT, pytest.approx(1 / 70, abs=1e-15))
    d = decide.decide_family([decide.Item(base, np.array([1.0, 1.2, 0.9, 1.1]), False)])[0]
    assert (d.verdict, d.reachable) == (decide.INCONCLUSIVE, True)  # more repeats could decide


def test_assess_edges():
    base = np.array([1.00, 1.01, 1.02, 1.03])
    _, a = decide.decide_one(base, np.array(["2.0", "2.02", "2.04", "2.06"]), higher_is_better=False)
    assert a.current_stat == pytest.approx(2.03)
    _, a = decide.decide_one(base, np.array([0.0, 1.0, 1.0, 1.0]), higher_is_better=False)
    assert a.reason == "values <= 0: the decision works on ratios (log values)"
    # Moses interval at 50 % confidence (k = 5 of the 16 log-ratio differences) is narrower
    _, wide = decide.decide_one(base, base * 2, higher_is_better=False)
    _, narrow = decide.decide_one(base, base * 2, higher_is_better=False, settings=decide.Settings(confidence=0.5))
    assert narrow.ci_low > wide.ci_low and narrow.ci_high < wide.ci_high
    # robust CV exactly at max_cv: not noisy (noisy means above it)
    noisy_base = np.array([1.0, 1.2, 0.9, 1.1])
    s = decide.Settings(max_cv=stats.robust_cv(noisy_base))
    _, a = decide.decide_one(noisy_base, noisy_base * 1.001, higher_is_better=False, settings=s)
    assert a.noisy is False


def test_detection_estimate_uses_threshold_and_alpha():
    from harness.regression import power

    assert power.detection_estimate(1, 5, 0.10, 0.05, cv=0.01, builds=20) == 0.0  # +10 % is not > 10 %
    assert power.detection_estimate(1, 5, 0.05, 0.0001, cv=0.01, builds=20) == 0.0  # unreachable alpha
