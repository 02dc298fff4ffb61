"""Unit tests of the statistics helpers and gate parsing."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from harness.regression import stats
from harness.regression.gates import Gate, GateError, GateSet, parse_gate, parse_threshold


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


def _perm_rank_sum(x, y):
    """SciPy's exhaustive permutation test of the mid-rank sum of y (the reference)."""
    from scipy import stats as sps

    def stat(u, v):
        return sps.rankdata(np.concatenate([u, v]))[: len(u)].sum()

    return sps.permutation_test((y, x), stat, permutation_type="independent", alternative="greater",
                                n_resamples=np.inf).pvalue  # fmt: skip


def test_rank_sum_is_exact_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(6):
        x, y = np.round(rng.normal(0, 1, 6)), np.round(rng.normal(0.7, 1, 5))  # many ties
        assert stats.rank_sum_greater(x, y) == pytest.approx(_perm_rank_sum(x, y), rel=1e-12)
    # the example: constant 0.90 vs 0.91 at n = 5 is 1/252 exactly (SciPy's normal approx: 0.002)
    assert stats.rank_sum_greater(np.full(5, 0.90), np.full(5, 0.91)) == pytest.approx(1 / 252)


def test_rank_sum_direction_constant_and_reachability():
    assert stats.rank_sum_greater(np.arange(10.0), np.arange(10) + 100.0) == pytest.approx(1 / 184756)
    assert stats.rank_sum_greater(np.arange(10) + 100.0, np.arange(10.0)) == 1.0
    assert stats.rank_sum_greater(np.ones(5), np.ones(5)) == 1.0
    assert stats.min_p(5, 5) == pytest.approx(1 / 252)
    assert not stats.reachable(5, 5, family=13, alpha=0.05) and stats.reachable(5, 5, family=12, alpha=0.05)
    assert stats.repeats_needed(100, 0.05) == 7  # C(14, 7) = 3432 > 2000, C(12, 6) = 924 < 2000


def test_shift_interval_covers_true_shift():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(200):
        x, y = rng.normal(0, 1, 8), rng.normal(0.5, 1, 9)
        _, lo, hi = stats.shift_interval(x, y, confidence=0.90)
        hits += lo <= 0.5 <= hi
    assert 0.85 <= hits / 200 <= 0.97, hits  # exact 90 % (conservative by the discreteness)
    est, lo, hi = stats.shift_interval(np.zeros(2), np.ones(2), confidence=0.95)
    assert est == 1.0 and lo == -np.inf and hi == np.inf  # 2 vs 2 cannot give a 95 % interval


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
    primary, _round, train, step = gs.metrics
    assert primary.metric == "samples_per_s"  # the primary metric always gates
    assert {g.metric for g in gs.reported} == {"chunk_ms_p50", "energy_per_sample_j", "test_accuracy"}
    assert gs.threshold_for(train, {"engine": "fast"}) == pytest.approx(0.03)
    assert gs.threshold_for(train, {"engine": "eager"}) == pytest.approx(0.10)
    assert gs.threshold_for(step, {"engine": "eager"}) == pytest.approx(0.07)
    assert gs.threshold_for(step, {"optimizer": "sgd"}) == pytest.approx(0.02)
    assert parse_threshold("5") == 5.0 and parse_threshold(".5%") == pytest.approx(0.005)


def test_metrics_come_from_the_schema_directions():
    from harness import schema
    from harness.regression.gates import METRICS

    for name, better in schema.directions().items():
        assert METRICS[name].higher_is_better == (better == "higher")
    assert METRICS["samples_per_s"].higher_is_better and not METRICS["train_s"].higher_is_better


@pytest.mark.parametrize("table, message", [
    ({"primary": "nope"}, "gate.primary: unknown metric 'nope'"),
    ({"metrics": "train_s"}, "gate.metrics: expected a list"),
    ({"alpha": 2}, "gate.alpha: expected a number in (0, 1), got 2"),
    ({"bogus": 1}, "unknown key(s) ['bogus']"),
])  # fmt: skip
def test_gate_table_errors(table, message):
    from harness.regression.gates import check_gate_table

    with pytest.raises(GateError, match=re.escape(message)):
        check_gate_table(table)
