"""History's arithmetic with literal values (issue 30): the segment cost, the PELT penalty and noise
scale, the selection factor, each step's record, pruning and the 'cannot decide' (pending) steps.

Pure functions on hand-made series (one value a run, so a run's median is that value): no run
folders, no CLI, so the whole file runs in well under a second (the mutation subset of history).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import ruptures

from harness.regression.decide import IMPROVEMENT, INCONCLUSIVE, NO_CHANGE, REGRESSION, Settings
from harness.regression.gates import GateError, GateSet
from harness.regression.history import (
    MIN_SIZE,
    History,
    RunInfo,
    Series,
    _PrefixL2,
    analyse,
    build_series,
    candidate_positions,
    judge,
    propose_steps,
)
from harness.run_meta import RunMeta


def _runs(n: int, tf_from: int | None = None) -> list[RunInfo]:
    """Runs r0..r{n-1} (commits c0..); TensorFlow 2.20, or 2.21 from run ``tf_from`` on."""
    def meta(i: int) -> dict:
        return {"software": {"tensorflow": "2.21" if tf_from is not None and i >= tf_from else "2.20"}}

    return [RunInfo(f"r{i}", f"c{i}", f"2026-01-{i + 1:02d}", meta(i)) for i in range(n)]


def _series(medians: list[float], runs: list[int] | None = None, metric: str = "train_s",
            higher_is_better: bool = False, case: str = "c0") -> Series:  # fmt: skip
    return Series(case, f"case-{case}", metric, higher_is_better, 0.05,
                  list(range(len(medians))) if runs is None else runs, [np.array([m]) for m in medians])  # fmt: skip


# ---- pieces -----------------------------------------------------------------------------------


def test_min_size_and_selection_factor():
    assert MIN_SIZE == 2
    # hi - lo - 2 * min_size + 1, at least 1
    assert candidate_positions(0, 20) == 17  # 20 - 4 + 1
    assert candidate_positions(3, 13) == 7  # 10 - 4 + 1
    assert candidate_positions(0, 5) == 2  # 5 - 4 + 1
    assert candidate_positions(0, 4) == 1  # exactly one place: 4 - 4 + 1
    assert candidate_positions(0, 3) == 1  # 3 - 4 + 1 = 0: floored at 1
    assert candidate_positions(0, 5, min_size=1) == 4  # 5 - 2 + 1
    assert candidate_positions(0, 5, min_size=3) == 1  # 5 - 6 + 1 = 0 -> 1


def test_prefix_l2_cost_by_hand():
    cost = _PrefixL2().fit(np.array([1.0, 2.0, 3.0, 6.0]))
    assert cost.model == "l2_prefix" and cost.min_size == 1
    assert cost.signal.shape == (4, 1)  # ruptures reads the length from it
    assert cost.error(0, 4) == 14.0  # mean 3: 4 + 1 + 0 + 9
    assert cost.error(1, 3) == 0.5  # [2, 3], mean 2.5: 0.25 + 0.25
    assert cost.error(3, 4) == 0.0  # one value
    assert cost.error(2, 4) == 4.5  # [3, 6], mean 4.5: 2.25 + 2.25
    with pytest.raises(ruptures.exceptions.NotEnoughPoints):
        cost.error(2, 2)  # an empty segment: 0 < min_size 1


def test_prefix_l2_rounding_below_zero_is_clamped():
    # 5 x 0.7: sum of squares 2.45 minus 3.5**2 / 5 = 2.45 is -4.4e-16 in floats: clamped to exactly 0
    cost = _PrefixL2().fit(np.full(5, 0.7))
    assert cost.error(0, 5) == 0.0


def test_propose_steps_needs_two_segments_of_min_size():
    assert propose_steps(np.array([1.0, 1.0, 2.0])) == []  # 3 runs < 2 x 2
    assert propose_steps(np.array([1.0, 1.0, 2.0, 2.0])) == [2]  # exactly 2 x 2
    assert propose_steps(np.array([2.0]), min_size=1) == []  # 1 run < 2 x 1
    assert propose_steps(np.array([1.0, 2.0]), min_size=1) == [1]  # exactly 2 x 1 (one difference: noise floor)
    assert propose_steps(np.ones(8)) == []  # flat: no step


@pytest.mark.parametrize(("ratio_e4", "found"), [(1.75, []), (1.78, [4])])
def test_propose_steps_penalty_at_the_noise_floor(ratio_e4, found):
    """No noise: the scale is the floor 1e-4. A step of d (log units) between two halves of 4 lowers the
    cost by 4 * 4 / 8 * (d / 1e-4)**2 = 2 (d / 1e-4)**2; the penalty is 3 ln 8 = 6.2383: a step from
    d / 1e-4 > sqrt(3.1192) = 1.7661 on (1.75: 6.125 < 6.238, none; 1.78: 6.337 > 6.238, found)."""
    d = ratio_e4 * 1e-4
    assert propose_steps(np.exp(np.array([0, 0, 0, 0, d, d, d, d]))) == found


@pytest.mark.parametrize(("step", "found"), [(0.0365, []), (0.0375, [4])])
def test_propose_steps_noise_scale_from_the_differences(step, found):
    """log medians 0, a, 0, a, D+a, D, D+a, D with a = 0.01: differences a, -a, a, D, -a, a, -a, median a;
    absolute deviations 0, 2a, 0, D-a, 2a, 0, 2a, median 2a; noise = 1.4826 x 2a / sqrt(2) = 0.0209677.
    The step lowers the cost by 2 D**2 / noise**2 (halves of 4, means a/2 and D + a/2): above
    3 ln 8 = 6.2383 from D > 1.76613 x 0.0209677 = 0.037032 (0.0365 no, 0.0375 yes)."""
    a, d = 0.01, step
    y = np.array([0, a, 0, a, d + a, d, d + a, d])
    assert propose_steps(np.exp(y)) == found


def test_series_medians_and_run_info():
    s = Series("c", "case", "train_s", False, 0.05, [0, 1], [np.array([3.0, 1.0, 2.0]), np.array([4.0, 10.0])])
    assert s.medians.tolist() == [2.0, 7.0]
    r = RunInfo("r0", "abc", "2026-01-01", {"software": {"tensorflow": "2.21"}})
    assert isinstance(r.meta, RunMeta) and r.meta.software["tensorflow"] == "2.21"
    assert isinstance(RunInfo("r1", "", "").meta, RunMeta)


# ---- build_series -----------------------------------------------------------------------------


def test_build_series_values_order_status_threshold():
    rows = [
        # run b (index 1) listed first: the series is put in run order
        {"run_id": "b", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": 20.0, "train_s": 2.0},
        {"run_id": "b", "case_id": "c0", "case_label": "x", "status": None, "samples_per_s": 22.0, "train_s": 2.0},
        {"run_id": "a", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": 10.0, "train_s": 1.0},
        {"run_id": "a", "case_id": "c0", "case_label": "x", "status": "failed", "samples_per_s": 99.0, "train_s": 9.0},
        {"run_id": "a", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": math.inf, "train_s": 1.0},
        {"run_id": "a", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": 0.0, "train_s": 1.0},
        {"run_id": "a", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": -3.0, "train_s": 1.0},
        # run c: no usable value of samples_per_s (NaN, 0): not in that series; train_s is
        {"run_id": "c", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": math.nan, "train_s": 3.0},
        {"run_id": "c", "case_id": "c0", "case_label": "x", "status": "ok", "samples_per_s": 0.0, "train_s": 3.0},
    ]  # fmt: skip
    gates = GateSet.from_strings(["train_s"], ["7%"], report=False)
    out = build_series(pd.DataFrame(rows), {"a": 0, "b": 1, "c": 2}, gates)
    assert [(s.metric, s.higher_is_better, s.threshold) for s in out] == [
        ("samples_per_s", True, 0.07), ("train_s", False, 0.07)]  # fmt: skip
    sps, train = out
    assert sps.case_id == "c0" and sps.case_label == "x"
    assert sps.runs == [0, 1] and [v.tolist() for v in sps.values] == [[10.0], [20.0, 22.0]]
    assert train.runs == [0, 1, 2] and [v.tolist() for v in train.values] == [[1.0, 1.0, 1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]
    assert sps.medians.tolist() == [10.0, 21.0]


def test_build_series_without_status_column():
    rows = [{"run_id": r, "case_id": "c0", "case_label": "x", "samples_per_s": v} for r, v in (("a", 5.0), ("b", 6.0))]
    (s,) = build_series(pd.DataFrame(rows), {"a": 1, "b": 0}, GateSet.from_strings(report=False))
    assert s.runs == [0, 1] and [v.tolist() for v in s.values] == [[6.0], [5.0]]  # run b is index 0


# ---- judging: records, pruning, pending -------------------------------------------------------


def test_step_record_by_hand_and_pruning_of_the_smaller_step():
    """Medians 1 x4, 1.02 x4, 2 x4 (train_s, one value a run) on runs 0-3, 5-12 of 14 (run 4 missing).

    Both steps proposed. First judgement (family of 2): at 4, [1]x4 v [1.02]x4: +2 %, within ±5 %
    (no_change: not a change point); at 8, [1.02]x4 v [2]x4: 5 places x 1/C(8,4) = 5/70 = 0.071,
    inconclusive. The smaller step (|log 1.02| < |log 1.96|) is merged away; then the step at 8 is
    judged over all 12 runs: before 8 (median (1 + 1.02) / 2 = 1.01), after 4: change 2 / 1.01 - 1
    = 0.980198; 12 - 4 + 1 = 9 places x 1/C(12,4) = 9/495 = 0.0181818 < 0.05: a regression.
    """
    runs = _runs(14, tf_from=9)
    s = _series([1.0] * 4 + [1.02] * 4 + [2.0] * 4, runs=[0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12])
    steps = judge([s], runs, Settings(min_repeats=2))
    assert len(steps) == 2
    kept, dropped = steps.iloc[0].to_dict(), steps.iloc[1].to_dict()
    assert {k: kept[k] for k in ("case_id", "case_label", "case_key", "metric", "run_id", "commit",
                                 "previous_run_id", "previous_commit", "position", "n_before", "n_after",
                                 "threshold", "selection", "verdict", "reachable", "kept")} == {
        "case_id": "c0", "case_label": "case-c0", "case_key": "c0|case-c0", "metric": "train_s",
        "run_id": "r9", "commit": "c9", "previous_run_id": "r8", "previous_commit": "c8", "position": 9,
        "n_before": 8, "n_after": 4, "threshold": 0.05, "selection": 9, "verdict": REGRESSION,
        "reachable": True, "kept": True}  # fmt: skip
    assert kept["change"] == pytest.approx(0.98019802, abs=1e-8)
    assert kept["p_adj"] == pytest.approx(9 / 495, rel=1e-12)
    assert kept["environment_changed"] == "tensorflow: '2.20' vs '2.21'"  # run 8 -> run 9
    assert kept["reason"].startswith("+98.0%") and "worse by more than 5%" in kept["reason"]
    assert {k: dropped[k] for k in ("position", "run_id", "previous_run_id", "n_before", "n_after", "selection",
                                    "verdict", "kept", "environment_changed")} == {
        "position": 5, "run_id": "r5", "previous_run_id": "r3", "n_before": 4, "n_after": 4, "selection": 5,
        "verdict": NO_CHANGE, "kept": False, "environment_changed": ""}  # fmt: skip
    assert dropped["change"] == pytest.approx(0.02, abs=1e-12)
    hist = History(runs, [s], steps, Settings(min_repeats=2))
    assert hist.change_points["position"].tolist() == [9]
    assert hist.pending().empty and hist.newest_is_regression() == ["case-c0 train_s"]


def test_higher_is_better_step_is_an_improvement_with_its_p():
    """samples_per_s 1 x5 then 2 x5: twice as fast. 7 places x 1/C(10,5) = 7/252 = 0.0277778 < 0.05."""
    runs = _runs(10)
    steps = judge([_series([1.0] * 5 + [2.0] * 5, metric="samples_per_s", higher_is_better=True)], runs,
                  Settings(min_repeats=2))  # fmt: skip
    (rec,) = steps.to_dict("records")
    assert (rec["verdict"], rec["position"], rec["selection"], rec["kept"]) == (IMPROVEMENT, 5, 7, True)
    assert rec["p_adj"] == pytest.approx(7 / 252, rel=1e-12) and rec["change"] == 1.0
    assert not rec["reason"].startswith("pending")
    hist = History(runs, [], steps, Settings())
    assert hist.newest_is_regression() == [] and len(hist.change_points) == 1


def test_too_few_runs_after_a_step_is_pending_cannot_decide():
    """8 runs then 2: 7 places x 1/C(10,2) = 7/45 = 0.156 >= 0.05 even at complete separation: pending."""
    runs = _runs(10)
    steps = judge([_series([1.0] * 8 + [2.0] * 2)], runs, Settings(min_repeats=2))
    (rec,) = steps.to_dict("records")
    assert (rec["verdict"], rec["position"], rec["selection"], rec["kept"], rec["reachable"]) == (
        INCONCLUSIVE, 8, 7, False, False)  # fmt: skip
    assert rec["p_adj"] == pytest.approx(7 / 45, rel=1e-12)
    assert rec["reason"].startswith("pending: +100.0%") and "cannot decide: 8 vs 2 repeats" in rec["reason"]
    assert "need >= 5 repeats a side" in rec["reason"]  # 7 x 1/C(10,5) = 0.028 < 0.05; 7 x 1/C(8,4) = 0.1
    hist = History(runs, [], steps, Settings())
    assert hist.change_points.empty and hist.pending()["position"].tolist() == [8]
    assert hist.shown()["position"].tolist() == [8] and hist.newest_is_regression() == []


def test_a_late_pending_step_after_a_change_point():
    """1 x4, 2 x4, 3 x2. First: at 8, [2]x4 v [3]x2: 3 places x 1/C(6,2) = 0.2, pending; at 4 (family 2)
    5/70 adjusted, inconclusive. The smaller step (log 1.5 < log 2) goes; the step at 4 over all 10 runs:
    [1]x4 v 2, 2, 2, 2, 3, 3 (median 2): +100 %, 7 places x 1/C(10,4) = 7/210 = 0.0333: a regression."""
    runs = _runs(10)
    steps = judge([_series([1.0] * 4 + [2.0] * 4 + [3.0] * 2)], runs, Settings(min_repeats=2))
    hist = History(runs, [], steps, Settings())
    (cp,) = hist.change_points.to_dict("records")
    assert (cp["position"], cp["verdict"], cp["selection"], cp["n_after"], cp["change"]) == (4, REGRESSION, 7, 6, 1.0)
    assert cp["p_adj"] == pytest.approx(7 / 210, rel=1e-12)
    (late,) = hist.pending().to_dict("records")
    assert (late["position"], late["selection"], late["kept"], late["reachable"]) == (8, 3, False, False)
    assert late["p_adj"] == pytest.approx(0.2, rel=1e-12) and late["change"] == pytest.approx(0.5, abs=1e-12)
    assert hist.shown()["position"].tolist() == [4, 8]


def test_no_step_gives_an_empty_table_with_its_columns():
    runs = _runs(6)
    steps = judge([_series([1.0] * 6)], runs, Settings())
    assert steps.empty and list(steps.columns) == [
        "case_id", "case_label", "metric", "run_id", "commit", "change", "verdict", "position", "case_key", "kept"]  # fmt: skip
    hist = History(runs, [], steps, Settings())
    assert hist.change_points is steps and hist.pending() is steps and hist.shown() is steps
    assert hist.newest_is_regression() == []


def test_two_series_are_one_family():
    """Two series, each 1 x5 then 2 x5: each p 7/252 (a regression alone, see the improvement test); every
    step of every series is one family: Holm over 2 gives 2 x 7/252 = 0.0556 >= 0.05, so neither is kept."""
    runs = _runs(10)
    a, b = _series([1.0] * 5 + [2.0] * 5, case="c0"), _series([1.0] * 5 + [2.0] * 5, case="c1")
    steps = judge([a, b], runs, Settings(min_repeats=2))
    assert steps["verdict"].tolist() == [INCONCLUSIVE, INCONCLUSIVE] and not steps["kept"].any()
    assert steps["p_adj"].tolist() == pytest.approx([14 / 252, 14 / 252], rel=1e-12)


# ---- History views on a literal table -------------------------------------------------------


def _table() -> pd.DataFrame:
    rows = [  # (case_key, position, verdict, kept, reachable), deliberately out of order
        ("b|B", 6, REGRESSION, True, True), ("a|A", 7, IMPROVEMENT, True, True), ("a|A", 3, REGRESSION, True, True),
        ("b|B", 2, IMPROVEMENT, True, True), ("a|A", 9, INCONCLUSIVE, False, False),  # late: pending
        ("a|A", 5, INCONCLUSIVE, False, False),  # before a change point: not pending
        ("b|B", 4, REGRESSION, False, True),  # dropped, reachable: neither
        ("c|C", 2, INCONCLUSIVE, False, False),  # a series without change points: pending
        ("c|C", 5, NO_CHANGE, True, True),  # kept but not a change: not shown
    ]  # fmt: skip
    return pd.DataFrame([{"case_key": k, "case_label": k[-1], "metric": "samples_per_s", "position": p,
                          "verdict": v, "kept": kept, "reachable": r} for k, p, v, kept, r in rows])  # fmt: skip


def test_history_views():
    hist = History([], [], _table(), Settings())
    cp = hist.change_points
    assert list(zip(cp["case_key"], cp["position"], strict=True)) == [("b|B", 6), ("a|A", 7), ("a|A", 3), ("b|B", 2)]
    pend = hist.pending()
    assert list(zip(pend["case_key"], pend["position"], strict=True)) == [("a|A", 9), ("c|C", 2)]
    shown = hist.shown()
    assert list(zip(shown["case_key"], shown["position"], strict=True)) == [
        ("a|A", 3), ("a|A", 7), ("a|A", 9), ("b|B", 2), ("b|B", 6), ("c|C", 2)]  # fmt: skip
    # newest change point: a|A improvement at 7 (the regression at 3 was fixed), b|B regression at 6
    assert hist.newest_is_regression() == ["B samples_per_s"]


def test_pending_at_the_position_of_the_last_change_point_is_not_late():
    t = pd.DataFrame([{"case_key": "a|A", "case_label": "A", "metric": "m", "position": 4, "verdict": v,
                       "kept": k, "reachable": r} for v, k, r in ((REGRESSION, True, True), (INCONCLUSIVE, False, False))])  # fmt: skip
    hist = History([], [], t, Settings())
    assert hist.pending().empty  # position 4 is not after 4
    # the same step of another metric is another series: late there (no change point: -1)
    t.loc[1, "metric"] = "other"
    assert History([], [], t, Settings()).pending()["position"].tolist() == [4]


def test_analyse_end_to_end_on_literal_rows():
    """Two runs a value each per commit; runs named out of order in the rows; 1 x5, then 1.25 x5 slower."""
    runs = _runs(10)
    rows = [{"run_id": f"r{i}", "case_id": "c0", "case_label": "x", "status": "ok",
             "samples_per_s": 100.0 / (1.0 if i < 5 else 1.25)} for i in reversed(range(10))]  # fmt: skip
    hist = analyse(runs, pd.DataFrame(rows), GateSet.from_strings(report=False), Settings(min_repeats=2))
    (cp,) = hist.change_points.to_dict("records")
    assert (cp["run_id"], cp["verdict"], cp["selection"]) == ("r5", REGRESSION, 7)
    assert cp["change"] == pytest.approx(-0.2, abs=1e-12)  # 80 / 100 - 1
    assert hist.newest_is_regression() == ["x samples_per_s"]


# ---- more literal cases: selectors, per-case thresholds, environments, the threshold in the test ----


def test_build_series_selector_and_per_case_threshold():
    """adam: one row (a case of one row); sgd: two runs. train_s gated for adam only; sgd's threshold 9 %."""
    rows = [
        {"run_id": "a", "case_id": "c1", "case_label": "adam", "optimizer": "adam", "samples_per_s": 5.0, "train_s": 2.0},
        {"run_id": "a", "case_id": "c2", "case_label": "sgd", "optimizer": "sgd", "samples_per_s": 7.0, "train_s": 1.0},
        {"run_id": "b", "case_id": "c2", "case_label": "sgd", "optimizer": "sgd", "samples_per_s": "x", "train_s": 1.5},
        {"run_id": "c", "case_id": "c2", "case_label": "sgd", "optimizer": "sgd", "samples_per_s": 8.0, "train_s": 1.5},
    ]  # fmt: skip
    gates = GateSet.from_strings(["train_s:10%@optimizer=adam"], ["9%@optimizer=sgd"], report=False)
    out = build_series(pd.DataFrame(rows), {"a": 0, "b": 1, "c": 2}, gates)
    got = [(s.case_label, s.metric, s.threshold, s.runs, [v.tolist() for v in s.values]) for s in out]
    assert got == [
        ("adam", "samples_per_s", 0.05, [0], [[5.0]]),
        ("adam", "train_s", 0.10, [0], [[2.0]]),
        ("sgd", "samples_per_s", 0.09, [0, 2], [[7.0], [8.0]]),  # "x" is not a number: run b has none
    ]  # fmt: skip


def test_propose_steps_of_one_run():
    assert propose_steps(np.array([5.0])) == []  # fewer than 2 x 2 runs (PELT itself would refuse one run)


def test_environment_differences_are_joined():
    runs = [RunInfo(f"r{i}", f"c{i}", "", {"machine": {"cpu_model": "A" if i < 5 else "B"},
                                           "software": {"tensorflow": "2.20" if i < 5 else "2.21"}})
            for i in range(10)]  # fmt: skip
    (rec,) = judge([_series([1.0] * 5 + [2.0] * 5)], runs, Settings(min_repeats=2)).to_dict("records")
    assert rec["environment_changed"] == "cpu_model: 'A' vs 'B'; tensorflow: '2.20' vs '2.21'"


def test_the_series_threshold_is_the_tests_threshold():
    """1 x5 then 1.07 x5 with a threshold of 10 %: +7 % is within ±10 % (p_within 1/252 < 0.05): no change,
    merged away; at the default 5 % it would be a regression (7/252)."""
    runs = _runs(10)
    s = Series("c0", "case-c0", "train_s", False, 0.10, list(range(10)), [np.array([m]) for m in [1.0] * 5 + [1.07] * 5])
    (rec,) = judge([s], runs, Settings(min_repeats=2)).to_dict("records")
    assert (rec["verdict"], rec["kept"], rec["threshold"]) == (NO_CHANGE, False, 0.10)
    (rec,) = judge([_series([1.0] * 5 + [1.07] * 5)], runs, Settings(min_repeats=2)).to_dict("records")
    assert (rec["verdict"], rec["kept"]) == (REGRESSION, True)


def test_pending_follows_the_tables_index():
    t = _table()
    t.index = range(100, 100 + len(t))
    pend = History([], [], t, Settings()).pending()
    assert pend.index.tolist() == [104, 107] and pend["position"].tolist() == [9, 2]


def test_analyse_keeps_runs_and_settings_and_checks_named_metrics():
    runs = _runs(4)
    rows = pd.DataFrame([{"run_id": f"r{i}", "case_id": "c0", "case_label": "x", "samples_per_s": 1.0} for i in range(4)])
    settings = Settings(min_repeats=2, alpha=0.01)
    hist = analyse(runs, rows, GateSet.from_strings(report=False), settings)
    assert hist.runs is runs and hist.settings is settings and len(hist.series) == 1
    with pytest.raises(GateError, match="metric 'train_s': no such column"):
        analyse(runs, rows, GateSet.from_strings(["train_s"], report=False), settings)
