"""The detector validated on synthetic repeated measurements (issue 6, "what must be shown").

Noise model, per repeat: log-normal with sigma 3 % times, with probability 10 %,
a slow outlier of 1.2-1.6x (a noisy neighbour on a shared CI machine). The
metric is a time (lower is better). A/A: both sides from the same
distribution; planted slowdown: the current side x 1.10.

Side by side on the *same* simulated data, the common fixed-percentage gate
(pytest-benchmark's ``--benchmark-compare-fail=mean:5%``: one aggregate of the
baseline versus one aggregate of the current, regression if 5 % worse).
"""

from __future__ import annotations

import numpy as np
import pytest

from harness.analysis.decide import REGRESSION, Settings, decide_one
from tests.compare.conftest import noisy


def simulate(n: int, slowdown: float, trials: int, seed: int) -> tuple[float, float]:
    """(our regression rate, fixed-gate regression rate) over ``trials`` comparisons."""
    rng = np.random.default_rng(seed)
    settings = Settings(n_resamples=1000)  # the CLI uses 2000; 1000 keeps the test fast
    ours = fixed = 0
    for _ in range(trials):
        base = 100.0 * noisy(rng, n)
        cur = 100.0 * noisy(rng, n) * slowdown
        verdict, _ = decide_one(base, cur, higher_is_better=False, threshold=0.05, settings=settings, rng=rng)
        ours += verdict == REGRESSION
        fixed += cur.mean() / base.mean() - 1.0 >= 0.05
    return ours / trials, fixed / trials


def test_aa_and_planted_slowdown_10_repeats():
    false_alarms, fixed_false_alarms = simulate(10, 1.0, trials=600, seed=11)
    detected, fixed_detected = simulate(10, 1.10, trials=300, seed=12)
    assert false_alarms <= 0.01, false_alarms
    assert detected >= 0.80, detected
    # the fixed-percentage gate on one aggregate cries wolf far more often
    assert fixed_false_alarms > 0.05 and fixed_false_alarms > 5 * max(false_alarms, 0.002), fixed_false_alarms
    assert fixed_detected < detected, (fixed_detected, detected)


def test_planted_slowdown_20_repeats():
    false_alarms, fixed_false_alarms = simulate(20, 1.0, trials=300, seed=21)
    detected, _ = simulate(20, 1.10, trials=300, seed=22)
    assert false_alarms <= 0.01, false_alarms
    assert detected >= 0.95, detected
    assert fixed_false_alarms > 0.03, fixed_false_alarms


@pytest.mark.slow
def test_detector_rates_many_trials():
    """Tighter estimates: 3000 A/A and 1000 slowdown trials per sample size."""
    for n, min_detect in ((10, 0.80), (20, 0.95)):
        false_alarms, fixed_false_alarms = simulate(n, 1.0, trials=3000, seed=100 + n)
        detected, fixed_detected = simulate(n, 1.10, trials=1000, seed=200 + n)
        assert false_alarms <= 0.01, (n, false_alarms)
        assert detected >= min_detect, (n, detected)
        assert fixed_false_alarms > 5 * max(false_alarms, 0.002), (n, fixed_false_alarms)


def test_below_threshold_is_no_change_even_if_significant():
    rng = np.random.default_rng(3)
    base = 100 * np.exp(rng.normal(0, 0.005, 30))
    cur = base * 1.02  # 2 % slower, very clearly, but below the 5 % minimum effect
    verdict, a = decide_one(base, cur, higher_is_better=False)
    assert verdict == "no_change" and a.p_worse < 0.01


def test_noisy_side_is_inconclusive():
    rng = np.random.default_rng(4)
    base, cur = 100 * np.exp(rng.normal(0, 0.3, 10)), 130 * np.exp(rng.normal(0, 0.3, 10))
    verdict, a = decide_one(base, cur, higher_is_better=False)
    assert verdict == "inconclusive" and "too noisy" in a.reason


def test_direction_for_higher_is_better():
    rng = np.random.default_rng(5)
    base = 1000 * noisy(rng, 10, p_out=0)
    assert decide_one(base, base * 0.85, higher_is_better=True)[0] == "regression"
    assert decide_one(base, base * 1.15, higher_is_better=True)[0] == "improvement"
