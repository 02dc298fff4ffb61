"""Unit tests of the statistics helpers and gate parsing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from harness.analysis import stats
from harness.analysis.gates import Gate, GateError, GateSet, parse_gate, parse_threshold


def test_holm_matches_definition():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.005])
    adj = stats.holm(p)
    # sorted 0.005, 0.01, 0.03, 0.04 with m=4: 0.02, 0.03, 0.06, max(0.06, 0.04)
    np.testing.assert_allclose(adj[[4, 0, 2, 1]], [0.02, 0.03, 0.06, 0.06])
    assert np.isnan(adj[3])


def test_bh_matches_scipy():
    p = np.random.default_rng(0).random(20) ** 2
    np.testing.assert_allclose(stats.benjamini_hochberg(p), false_discovery_control(p))


def test_robust_cv_ignores_one_outlier():
    x = np.array([100, 101, 99, 100.5, 99.5, 100, 101, 99, 100, 160.0])
    assert stats.robust_cv(x) < 0.02 < np.std(x) / np.mean(x)


def test_bootstrap_ci_covers_true_ratio():
    rng = np.random.default_rng(1)
    base, cur = 100 * np.exp(rng.normal(0, 0.02, 40)), 110 * np.exp(rng.normal(0, 0.02, 40))
    lo, hi = stats.bootstrap_ratio_ci(base, cur, rng=rng)
    assert lo < 1.10 < hi and hi - lo < 0.05


def test_mann_whitney_direction_and_constant():
    assert stats.mann_whitney_greater(np.arange(10) + 100.0, np.arange(10.0)) < 1e-4
    assert stats.mann_whitney_greater(np.arange(10.0), np.arange(10) + 100.0) > 0.99
    assert stats.mann_whitney_greater(np.ones(5), np.ones(5)) == 1.0


@pytest.mark.parametrize(
    "text, gate",
    [
        ("samples_per_s", Gate("samples_per_s")),
        ("samples_per_s:5%", Gate("samples_per_s", "median", 0.05)),
        ("step_ms_p50:median:5%", Gate("step_ms_p50", "median", 0.05)),
        ("train_s:mean:0.1", Gate("train_s", "mean", 0.1)),
        ("8%@optimizer=adam*", Gate(None, "median", 0.08, {"optimizer": "adam*"})),
    ],
)
def test_parse_gate(text, gate):
    assert parse_gate(text) == gate


@pytest.mark.parametrize("text", ["", "speed:5%", "train_s:max:5%", "train_s:5%:median:1", "train_s:-5%", "x@bad"])
def test_parse_gate_errors(text):
    with pytest.raises(GateError):
        parse_gate(text)


def test_threshold_precedence():
    gs = GateSet.from_strings(["train_s", "step_ms_p50:7%"], ["3%", "train_s:10%@engine=eager", "2%@optimizer=sgd"])
    assert gs.default_threshold == pytest.approx(0.03)
    train, step = gs.metrics
    assert gs.threshold_for(train, {"engine": "fast"}) == pytest.approx(0.03)
    assert gs.threshold_for(train, {"engine": "eager"}) == pytest.approx(0.10)
    assert gs.threshold_for(step, {"engine": "eager"}) == pytest.approx(0.07)
    assert gs.threshold_for(step, {"optimizer": "sgd"}) == pytest.approx(0.02)
    assert parse_threshold("5") == 5.0 and parse_threshold(".5%") == pytest.approx(0.005)
