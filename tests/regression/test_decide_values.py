"""regression/decide.py with literal values (issue 30): the threshold-itself test at its tolerance,
the tolerance in every shifted test, per-item reachability and its bisection, the caps on p x
selection, and the reasons that name the correction, the family and the repeats needed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.regression import decide
from harness.regression.decide import Assessment, Item, Reach, Settings

BASE3 = [1.00, 1.01, 1.02]
SLOW3 = [2.00, 2.01, 2.02]  # every current repeat worse than every baseline one: p = 1/20


def _a(ci_low: float, ci_high: float, **kw) -> Assessment:
    return Assessment(3, 3, 1.0, 1.0, ci_low, ci_low, ci_high, 0.01, 0.01, **kw)


# ---- the change is the threshold itself ------------------------------------------------------------


def test_at_threshold_by_hand():
    at = decide._at_threshold
    assert at(_a(0.05, 0.05), 0.05)  # every ratio exactly 1.05
    assert at(_a(-0.05 / 1.05, -0.05 / 1.05), 0.05)  # every ratio 1 / 1.05: |log| = tau
    assert not at(_a(0.02, 0.02), 0.05)  # a point interval elsewhere
    assert not at(_a(0.05, 0.10), 0.05)  # one end at the threshold, the interval wide
    assert not at(_a(-1.0, math.inf), 0.05)  # no interval (too few repeats)
    assert not at(_a(0.05, math.inf), 0.05)


def test_at_threshold_tolerance_is_inclusive():
    # log1p(expm1(1e-9)) == 1e-9 exactly: a width, or a distance from tau, of exactly the tolerance
    e = math.expm1(1e-9)
    assert math.log1p(e) == decide.THRESHOLD_TOLERANCE
    assert decide._at_threshold(_a(0.0, e), 0.0)  # width exactly 1e-9, |0| - 0 = 0
    assert decide._at_threshold(_a(e, e), 0.0)  # width 0, |1e-9| - 0 exactly 1e-9
    assert not decide._at_threshold(_a(0.0, math.expm1(2e-9)), 0.0)
    assert not decide._at_threshold(_a(math.expm1(2e-9), math.expm1(2e-9)), 0.0)


@pytest.mark.parametrize(
    ("base", "current"),
    [
        # rounding puts each shifted value 4e-17 .. 7e-17 on the side that would decide without the tolerance:
        (1.0, 1.05),  # log(1.05) - log(1) - log1p(0.05) = +4.2e-17: p_worse would be 1/C(20, 10): "regression"
        (2.5, 2.625),  # -6.9e-17: the first within test would be 1/C(20, 10): "no_change"
        (1.0, 1.0 / 1.05),  # log(1) - log(1/1.05) - log1p(0.05) = +4.9e-17: p_better: "improvement"
        (1.3, 1.3 / 1.05),  # -4.2e-17: the second within test: "no_change"
    ],
)
def test_ten_v_ten_at_exactly_the_threshold_is_the_threshold_itself(base, current):
    v, a = decide.decide_one(np.full(10, base), np.full(10, current), higher_is_better=False)
    assert (a.p_worse, a.p_better, a.p_within) == (1.0, 1.0, 1.0)  # ties within THRESHOLD_TOLERANCE
    assert v == decide.INCONCLUSIVE
    assert "the change is the threshold itself (5%, every pair of repeats)" in a.reason
    assert a.reason.endswith("repeats would not help")
    (d,) = decide.decide_family([Item(np.full(10, base), np.full(10, current), False)])
    assert d.reachable is True  # more repeats would not help, but it is decided as far as it can be


# ---- caps on p x selection -----------------------------------------------------------------------


def test_selection_multiplies_and_caps_p():
    # 3 v 3 complete separation: raw p_worse 1/20, p_better 1; selection 7: 7/20 = 0.35; min_p 7 x 1/20
    a = decide.assess(Item(np.array(BASE3), np.array(SLOW3), False, selection=7))
    assert (a.p_worse, a.p_better, a.min_p) == (pytest.approx(0.35, rel=1e-12), 1.0, pytest.approx(0.35, rel=1e-12))
    # selection 30: 30/20 = 1.5 capped at 1 (p_worse and the floor)
    a = decide.assess(Item(np.array(BASE3), np.array(SLOW3), False, selection=30))
    assert (a.p_worse, a.p_better, a.min_p) == (1.0, 1.0, 1.0)
    # the other direction: p_better 30/20 capped
    a = decide.assess(Item(np.array(SLOW3), np.array(BASE3), False, selection=30))
    assert (a.p_worse, a.p_better) == (1.0, 1.0)
    a = decide.assess(Item(np.array(SLOW3), np.array(BASE3), False, selection=7))
    assert a.p_better == pytest.approx(0.35, rel=1e-12)


# ---- reach ---------------------------------------------------------------------------------------


def test_reach_reachable_names_correction_and_family():
    p = np.array([1.0, 1.0, np.nan])  # m counts finite p-values only: 2
    assert decide.reach(p, p, 0, 0.01, "holm", 0.05) == Reach(True, None, "holm", 2)  # 2 x 0.01 < 0.05
    assert decide.reach(p, p, 0, 0.01, "bh", 0.05) == Reach(True, None, "bh", 2)


def test_reach_either_direction_suffices():
    # other item: p_worse 0.001, p_better 1. Holm, floor 0.03: worse: sorted 0.001, 0.03 -> 2 x 0.001,
    # max(0.002, 1 x 0.03) = 0.03 < 0.05: rejects; better: sorted 0.03, 1 -> 2 x 0.03 = 0.06: does not
    worse, better = np.array([1.0, 0.001]), np.array([1.0, 1.0])
    assert decide.reach(worse, better, 0, 0.03, "holm", 0.05).reachable is True
    assert decide.reach(better, worse, 0, 0.03, "holm", 0.05).reachable is True  # only the improvement can


def test_reach_needed_by_bisection():
    one = np.array([1.0])
    # 2 v 2 floor 1/6; alpha 0.06: n v n with 1/C(2n, n) < 0.06: n = 3 (1/20 = 0.05)
    assert decide.reach(one, one, 0, 1 / 6, "holm", 0.06) == Reach(False, 3, "holm", 1)
    assert decide.reach(one, one, 0, 1 / 6, "none", 0.06, selection=2) == Reach(False, 4, "none", 1)  # 2/20 = 0.1
    # selection 7 at alpha 0.05: 7/70 = 0.1, 7/252 = 0.028: n = 5
    assert decide.reach(one, one, 0, 0.35, "holm", 0.05, selection=7) == Reach(False, 5, "holm", 1)
    # a floor of 1 (no repeats on a side), alpha 0.6: 1 v 1 (1/2) already: n = 1
    assert decide.reach(one, one, 0, 1.0, "holm", 0.6) == Reach(False, 1, "holm", 1)
    # family of 4 with Holm, the others at p = 1: 4/70 = 0.057, 4/252 = 0.016: n = 5
    four = np.array([1.0, 1.0, 1.0, 1.0])
    assert decide.reach(four, four, 2, 0.05, "holm", 0.05) == Reach(False, 5, "holm", 4)


def test_reach_nothing_suffices():
    one = np.array([1.0])
    # alpha 0: not even 1,000 v 1,000 (floor 0.0) gets below it
    assert decide.reach(one, one, 0, 0.05, "holm", 0.0) == Reach(False, None, "holm", 1)
    two = np.array([1.0, 1.0])
    assert decide.reach(two, two, 0, 0.05, "holm", 0.0) == Reach(False, None, "holm", 2)


def test_reach_with_integer_p_values():
    # missing data counts as p = 1, here as Python ints: the floor 0.04 must not be truncated to 0.
    # Holm over 2: 2 x 0.04 = 0.08 >= 0.05; 2 x 1/70 = 0.029 < 0.05: n = 4
    assert decide.reach([1, 1], [1, 1], 0, 0.04, "holm", 0.05) == Reach(False, 4, "holm", 2)


# ---- verdict: reasons ----------------------------------------------------------------------------


def _undecided(min_p: float = 0.05) -> Assessment:
    return Assessment(3, 3, 1.0, 2.0, 1.0, 0.9, 1.1, 0.01, 0.01, p_worse=0.05, p_better=1.0, p_within=1.0,
                      min_p=min_p)  # fmt: skip


def test_verdict_without_reach_uses_the_holm_bound():
    # family 1, min_p 0.05: 1 x 0.05 is not < 0.05; repeats_needed(1, 0.05) = 4
    v, why, ok = decide.verdict(_undecided(), 0.05, 0.05, 1.0, 0.05, 1)
    assert (v, ok) == (decide.INCONCLUSIVE, False)
    assert why == ("+100.0% (CI +90.0% .. +110.0%): cannot decide: 3 vs 3 repeats give p >= 0.05, too large "
                   "for holm over a family of 1 at alpha 0.05; need >= 4 repeats a side")  # fmt: skip
    # family 4: 4/70 = 0.057, 4/252: need 5
    v, why, ok = decide.verdict(_undecided(), 0.05, 0.2, 1.0, 0.05, 4)
    assert why.endswith("too large for holm over a family of 4 at alpha 0.05; need >= 5 repeats a side")
    # min_p 0.01, family 4: 0.04 < 0.05: reachable
    v, why, ok = decide.verdict(_undecided(0.01), 0.05, 0.2, 1.0, 0.05, 4)
    assert (v, ok) == (decide.INCONCLUSIVE, True) and why.endswith("is not ruled out; add repeats")


def test_verdict_reason_names_reach():
    why = decide.verdict(_undecided(), 0.05, 0.05, 1.0, 0.05, 1, Reach(False, None, "bh", 5))[1]
    assert why.endswith("too large for bh over a family of 5 at alpha 0.05; "
                        "no number of repeats up to 1,000 a side suffices")  # fmt: skip
    why = decide.verdict(_undecided(), 0.05, 0.05, 1.0, 0.05, 1, Reach(False, 7, "none", 3))[1]
    assert why.endswith("too large for none over a family of 3 at alpha 0.05; need >= 7 repeats a side")


def test_verdict_at_threshold_is_decided_as_far_as_it_can_be():
    a = Assessment(3, 3, 1.0, 1.05, 0.05, 0.05, 0.05, 0.0, 0.0, min_p=0.05)
    v, why, ok = decide.verdict(a, 0.05, 1.0, 1.0, 0.05, 1)
    assert (v, ok) == (decide.INCONCLUSIVE, True)
    assert why.startswith("+5.0% (CI +5.0% .. +5.0%): the change is the threshold itself (5%, every pair")


# ---- decide_family: the reach of the correction in force -------------------------------------------


def test_p_exactly_alpha_without_correction_names_none():
    # 3 v 3 separated, p_worse = 0.05 exactly, correction none: not below alpha; the reason comes from reach()
    (d,) = decide.decide_family([Item(np.array(BASE3), np.array(SLOW3), False)], Settings(correction="none"))
    assert (d.verdict, d.p_worse_adj, d.reachable) == (decide.INCONCLUSIVE, pytest.approx(0.05, abs=1e-15), False)
    assert d.reason.endswith("too large for none over a family of 1 at alpha 0.05; need >= 4 repeats a side")


def test_p_within_exactly_alpha_is_not_no_change():
    # ratios about 1.01, all within 5 %: both one-sided within tests complete separations: p_within 1/20 = alpha
    base, cur = np.array([1.0, 1.001, 1.002]), np.array([1.01, 1.011, 1.012])
    (d,) = decide.decide_family([Item(base, cur, False)], Settings(correction="none"))
    assert d.assessment.p_within == pytest.approx(0.05, abs=1e-15)
    assert d.verdict == decide.INCONCLUSIVE
    assert d.reason.endswith("too large for none over a family of 1 at alpha 0.05; need >= 4 repeats a side")


def test_selection_reaches_the_needed_repeats():
    # 3 v 3 separated, selection 7: p 0.35; needed: 7/70 = 0.1, 7/252 = 0.028 -> 5 (4 without the selection)
    (d,) = decide.decide_family([Item(np.array(BASE3), np.array(SLOW3), False, selection=7)])
    assert d.reason.endswith("p >= 0.35, too large for holm over a family of 1 at alpha 0.05; need >= 5 repeats a side")


def test_selection_one_at_alpha_006():
    # 2 v 2 separated (floor 1/6), alpha 0.06: 1/20 < 0.06 from 3 a side (a selection of 2 would need 4)
    (d,) = decide.decide_family([Item(np.array([1.0, 1.01]), np.array([2.0, 2.01]), False, selection=1)],
                                Settings(alpha=0.06, min_repeats=2))  # fmt: skip
    assert d.reason.endswith("need >= 3 repeats a side")
