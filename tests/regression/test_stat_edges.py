"""The edges of issue 29: each example of the issue, failing before the fix and passing after."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from harness.cli import main
from harness.regression import decide, stats
from harness.regression.compare import Relax, Side, compare_sides
from harness.regression.decide import (
    INCONCLUSIVE,
    NO_CHANGE,
    REGRESSION,
    Item,
    Settings,
    decide_family,
    decide_one,
)
from harness.regression.gates import GateSet
from harness.regression.power import reachability
from harness.regression.strict_json import dumps, strict


def _strict_loads(text: str):
    def refuse(token: str):
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(text, parse_constant=refuse)


def _items(rng, sizes_and_factors, cv=0.01):
    return [Item(np.exp(rng.normal(0, cv, nb)), f * np.exp(rng.normal(0, cv, nc)), False, 0.05)
            for nb, nc, f in sizes_and_factors]  # fmt: skip


def test_bh_family_is_not_judged_by_the_holm_bound():
    """20 items of 5 v 5 under BH (19 at +100 %, one at +5 %): the last is reachable, no exit 5."""
    items = _items(np.random.default_rng(0), [(5, 5, 2.0)] * 19 + [(5, 5, 1.05)])
    last = decide_family(items, Settings(correction="bh"))[-1]
    assert last.reachable and "cannot decide" not in last.reason and "need >=" not in last.reason


def test_unequal_n_in_one_holm_family_is_judged_per_item():
    """24 v 24 and 3 v 4 in one Holm family: a less extreme 3 v 4 item is reachable (the separated one decides)."""
    rng = np.random.default_rng(1)
    big = _items(rng, [(24, 24, 2.0)])[0]
    separated = Item(np.array([1.0, 1.01, 1.02]), np.array([1.5, 1.6, 1.7, 1.8]), False)
    overlapping = Item(np.array([1.0, 1.01, 1.02]), np.array([1.5, 1.2, 1.0, 1.3]), False)
    assert decide_family([big, separated])[1].verdict == REGRESSION
    d = decide_family([big, overlapping])[1]
    assert d.verdict == INCONCLUSIVE and d.reachable and "cannot decide" not in d.reason


def test_normal_floor_is_the_methods_floor_and_3_v_120_decides():
    """40 items of 3 v 120 at +200 %: the data decide (exact on the small side, p = 40 / C(123, 3))."""
    assert stats.exact_method(3, 120) and stats.min_p(3, 120) == pytest.approx(1 / math.comb(123, 3))
    ds = decide_family(_items(np.random.default_rng(2), [(3, 120, 3.0)] * 40))
    assert all(d.verdict == REGRESSION for d in ds), ds[0].reason
    # where the normal approximation is used, the floor is its p at complete separation
    x, y = np.arange(60.0), np.arange(60.0) + 100
    assert not stats.exact_method(60, 60)
    assert stats.rank_sum_greater(x, y) >= stats.min_p(60, 60) > 0
    assert stats.rank_sum_greater(x, y) == pytest.approx(stats.min_p(60, 60), rel=1e-9)


@pytest.mark.parametrize("n", [515, 1000])
def test_no_overflow_in_floors(n):
    assert stats.min_p(n, n) >= 0.0 and stats.reachable(n, n, 100, 0.05)
    assert reachability(10, 1, n).reachable
    rng = np.random.default_rng(n)
    verdict, a = decide_one(np.exp(rng.normal(0, 0.02, n)), np.exp(rng.normal(0, 0.02, n)), higher_is_better=False)
    assert verdict == NO_CHANGE and math.isfinite(a.ci_low + a.ci_high)


@pytest.mark.parametrize("nx, ny, k", [(3, 3, 1), (1, 19, 1), (2, 14, 4), (3, 9, 5)])
def test_interval_ranks_are_integers(nx, ny, k):
    """P(U <= k - 1) <= 0.05 exactly at these sizes: (1 - 0.9) / 2 = 0.04999... must not lose the rank."""
    assert stats.interval_rank(nx, ny, 0.90) == k
    cum = stats._u_cumcounts(nx, ny)
    assert cum[k - 1] * 20 <= cum[-1] < cum[k] * 20


def test_3_v_3_at_90_percent_is_finite():
    est, lo, hi = stats.shift_interval(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.5]), 0.90)
    assert (lo, hi) == (1.0, 5.5) and est == 3.0


@pytest.mark.parametrize("base, cur", [(1.00, 1.05), (0.80, 0.84), (2.0, 2.1), (1 / 1.05, 1.0)])
def test_a_ratio_of_exactly_the_threshold_never_flips(base, cur):
    """10 x base vs 10 x cur at a ratio of exactly 1.05: neither a regression nor 'within', always the same."""
    for hib in (False, True):
        verdict, a = decide_one(np.full(10, base), np.full(10, cur), higher_is_better=hib)
        assert verdict == INCONCLUSIVE and "threshold itself" in a.reason and "add repeats" not in a.reason
        assert a.p_worse == a.p_better == 1.0


def test_threshold_tolerance_is_named_and_tiny():
    assert 0 < decide.THRESHOLD_TOLERANCE <= 1e-6
    assert abs(math.log(1.05) - math.log1p(0.05)) < decide.THRESHOLD_TOLERANCE
    # a real difference just above the tolerance is not a tie
    ranks = stats.tie_ranks(np.array([0.0, 2 * decide.THRESHOLD_TOLERANCE]), decide.THRESHOLD_TOLERANCE)
    assert list(ranks) == [1.0, 2.0]


def test_strict_json_replaces_non_finite():
    doc = {"a": float("nan"), "b": [float("inf"), -math.inf, np.float64("nan")], "c": np.int64(3), "d": 1.5}
    assert _strict_loads(dumps(doc)) == {"a": None, "b": ["Infinity", "-Infinity", None], "c": 3, "d": 1.5}
    assert float(strict(math.inf)) == math.inf


def test_compare_json_is_strict_with_an_unbounded_interval(make_run, tmp_path):
    """2 v 2 repeats cannot bound a 90 % interval: the change is -100 % .. "Infinity" (a ratio > 0), NaN is null."""
    a, b = make_run("a", repeats=2, seed=1), make_run("b", repeats=2, seed=2)
    js = tmp_path / "c.json"
    main(["compare", str(a), str(b), "--min-repeats", "2", "--json", str(js)])
    doc = _strict_loads(js.read_text())
    row = next(r for r in doc["rows"] if r["metric"] == "samples_per_s")
    assert (row["ci_low"], row["ci_high"]) == (-1.0, "Infinity")


def _side(name: str, n: int, factor: float, seed: int) -> Side:
    rng = np.random.default_rng(seed)
    v = factor * np.exp(rng.normal(0, 0.02, n))
    rows = pd.DataFrame({"case_id": "c0", "case_label": "case0", "status": "ok", "samples_per_s": 1000 / v,
                         "train_s": v, "run_id": name})  # fmt: skip
    return Side(name, rows)


def test_1000_v_1000_through_compare():
    cmp = compare_sides(_side("a", 1000, 1.0, 1), _side("b", 1000, 1.10, 2), GateSet.from_strings(report=False),
                        relax=Relax(env=True))  # fmt: skip
    row = cmp.rows[cmp.rows["metric"] == "samples_per_s"].iloc[0]
    assert row["verdict"] == REGRESSION and cmp.overall == REGRESSION
    assert -0.10 < row["ci_low"] < row["ci_high"] < -0.08


@pytest.mark.slow  # no worker, but 2 x 2,000 rows and 10 comparisons of 10^6 pairwise differences: seconds
def test_1000_v_1000_repeats_through_the_cli(make_run, tmp_path):
    """The whole command at 1,000 repeats a side (normal approximation, floors underflowing to 0.0)."""
    a, b = make_run("a", repeats=1000, seed=1), make_run("b", repeats=1000, seed=2, slowdown=1.2)
    js = tmp_path / "c.json"
    assert main(["compare", str(a), str(b), "--json", str(js)]) == 1  # a regression
    rows = [r for r in _strict_loads(js.read_text())["rows"] if r["metric"] == "samples_per_s"]
    assert len(rows) == 2 and all(r["verdict"] == REGRESSION and r["n_base"] == 1000 for r in rows)
