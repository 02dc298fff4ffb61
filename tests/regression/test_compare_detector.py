"""The detector validated on synthetic repeats with the real decision code (issue 12).

A fast version of ``scripts/gate_characteristics.py`` (which regenerates the
table of docs/regression.md with 2000 builds per cell): the recipe's design
(suites/ci.toml: 2 cases, 24 repeats a side, 5 % minimum effect, alpha 0.05 per
build), log-normal noise.
"""

from __future__ import annotations

import numpy as np

from harness.regression.decide import INCONCLUSIVE, NO_CHANGE, REGRESSION, decide_one
from harness.regression.gate_sim import Design, failed_builds
from harness.suite import load_suite
from tests.regression.conftest import noisy

RECIPE = Design(cases=2, repeats=24)


def test_recipe_matches_suites_ci_toml():
    suite = load_suite("suites/ci.toml")
    assert len(suite.cases) == RECIPE.cases and {c.repeats for c in suite.cases} == {RECIPE.repeats}


def test_operating_characteristics_of_the_recipe():
    """Targets: A/A <= 1 % of builds at CV 5 %; +10 % on one case at CV 5 % caught in >= 80 %;
    +3 % on every case fails <= 5 % of builds at CV 2 %. (Fast: 150-250 builds a cell; the
    script's 2000-build figures are in docs/regression.md.)"""
    assert failed_builds(RECIPE, 0.05, "A/A", builds=250, seed=1) <= 0.01
    assert failed_builds(RECIPE, 0.05, "+10 % one case", builds=150, seed=2) >= 0.75
    assert failed_builds(RECIPE, 0.02, "+3 % every case", builds=150, seed=3) <= 0.03


def test_the_threshold_is_tested_not_eyeballed():
    """Observed 6 % slower at 3 % noise and 5 repeats is no regression: the data do not show > 5 %."""
    rng = np.random.default_rng(3)
    base = 100 * np.exp(rng.normal(0, 0.005, 30))
    verdict, a = decide_one(base, base * 1.02, higher_is_better=False)
    assert verdict == NO_CHANGE and "within ±5%" in a.reason and a.p_within < 0.01
    base, cur = 100 * np.exp(rng.normal(0, 0.03, 5)), 106 * np.exp(rng.normal(0, 0.03, 5))
    assert decide_one(base, cur, higher_is_better=False)[0] != REGRESSION


def test_symmetric_for_time_and_rate():
    """5.1 % slower is the same decision on train_s and on samples_per_s (log ratios)."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        t_base, t_cur = np.exp(rng.normal(0, 0.01, 12)), 1.051 * np.exp(rng.normal(0, 0.01, 12))
        v_time, _ = decide_one(t_base, t_cur, higher_is_better=False)
        v_rate, _ = decide_one(1 / t_base, 1 / t_cur, higher_is_better=True)
        assert v_time == v_rate


def test_noisy_comparison_is_tested_like_any_other():
    """A noisy comparison is not dropped from the family (that would pick the family after seeing
    the data): it is tested, flagged, and with this much noise it simply cannot reject."""
    rng = np.random.default_rng(4)
    base, cur = 100 * np.exp(rng.normal(0, 0.3, 10)), 110 * np.exp(rng.normal(0, 0.3, 10))
    verdict, a = decide_one(base, cur, higher_is_better=False)
    assert verdict == INCONCLUSIVE and a.noisy and "noisy" in a.reason and 0.05 < a.p_worse < 1


def test_direction_for_higher_is_better():
    rng = np.random.default_rng(5)
    base = 1000 * noisy(rng, 10, p_out=0)
    assert decide_one(base, base * 0.85, higher_is_better=True)[0] == "regression"
    assert decide_one(base, base * 1.15, higher_is_better=True)[0] == "improvement"
