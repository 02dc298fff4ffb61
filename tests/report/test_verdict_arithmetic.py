"""Leaderboard, performance profiles and labels on small hand-made tables, values by hand."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pandas as pd
import pytest

from harness.analysis import labels, perf_profile
from tests.helpers.verdict_rows import case_rows

leaderboard = importlib.import_module("harness.analysis.leaderboard")  # the package re-exports a function

NAN = math.nan




BOARD = case_rows([
    ("sgd", 32, 10.0, 0.95), ("sgd", 32, 12.0, 0.95), ("sgd", 32, 11.0, 0.95),
    ("adam", 32, 5.0, 0.96), ("adam", 32, 6.0, 0.97), ("adam", 32, 7.0, 0.98),
    ("nadam", 32, 6.5, 0.95), ("nadam", 32, 8.0, 0.95), ("nadam", 32, 9.0, 0.95),
    ("nadam", 32, NAN, 0.1, "failed"),
    ("rmsprop", 32, NAN, 0.90), ("rmsprop", 32, NAN, 0.91), ("rmsprop", 32, NAN, 0.92),
    ("ftrl", 32, 4.0, 0.93), ("ftrl", 32, NAN, 0.85), ("ftrl", 32, NAN, 0.86),
])


def test_leaderboard_ranks_ties_and_medians_by_hand():
    b = leaderboard.leaderboard(BOARD).set_index("optimizer_label")
    # adam [5, 7] and nadam [6.5, 9] overlap: both rank 1, tied; sgd [10, 12]: both are wholly
    # faster -> rank 3; rmsprop [0.90, 0.92] and ftrl [0.85, 0.93] (median repeat missed: inf) rank
    # on accuracy after the 3, overlapping: both 4, the higher median accuracy first
    assert list(b.index) == ["adam", "nadam", "sgd", "rmsprop", "ftrl"]
    assert b["rank"].tolist() == [1, 1, 3, 4, 4]
    assert b["tied"].tolist() == [True, True, False, True, True] and b["tied"].dtype == bool
    assert str(b["rank"].dtype) == "Int64"
    assert b.loc["adam", "time_to_target_s_median"] == 6.0
    assert (b.loc["sgd", "time_to_target_s_min"], b.loc["sgd", "time_to_target_s_max"]) == (10.0, 12.0)
    assert b.loc["ftrl", "time_to_target_s_median"] == math.inf
    assert (b.loc["ftrl", "reached"], b.loc["ftrl", "repeats"]) == (1, 3)
    assert (b.loc["nadam", "rows"], b.loc["nadam", "repeats"]) == (4, 3)  # the failed row counts as a row
    # wall = compile 2 + t + 2 epochs x (1.5 s eval / 3 epochs) = t + 3
    assert b.loc["adam", "wall_to_target_s_median"] == 9.0
    assert b.loc["ftrl", "wall_to_target_s_median"] == math.inf
    assert b.loc["adam", "energy_to_target_j_median"] == 60.0
    assert b.loc["adam", "test_accuracy_median"] == 0.97
    assert b["time_to_target_s_median_best"].tolist() == [True, False, False, False, False]
    assert b["test_accuracy_median_best"].tolist() == [True, False, False, False, False]
    assert b["samples_per_s_median_best"].tolist() == [True, False, False, False, False]
    assert b.loc["rmsprop", "interval"] == "min–max over 3 repeats"


def test_accuracy_ranking_after_the_fast_ones():
    rows = case_rows([("a", 32, NAN, 0.50), ("a", 32, NAN, 0.52), ("b", 32, NAN, 0.60), ("b", 32, NAN, 0.61),
                      ("c", 32, 3.0, 0.9)])
    b = leaderboard.leaderboard(rows)
    assert b["optimizer_label"].tolist() == ["c", "b", "a"]
    assert b["rank"].tolist() == [1, 2, 3]  # b's [0.60, 0.61] wholly above a's [0.50, 0.52]
    assert b["tied"].tolist() == [False, False, False]


def test_time_to_target_from_epochs_counts_exactly_the_target():
    cases = case_rows([("a", 32, NAN, 0.5)])
    epochs = pd.DataFrame({
        "run_id": "r1", "case_id": "a-32-0.01", "repeat": 0, "epoch": [1, 2, 3],
        "test_accuracy": [0.5, 0.8, 0.9], "cum_train_s": [1.5, 3.0, 4.5], "cum_energy_j": [10.0, 20.0, 30.0],
    })
    out = leaderboard.time_to_target(cases, epochs, 0.8)  # reached at exactly 0.8: epoch 2
    assert len(out) == 1  # epochs 2 and 3 both reach it: the first counts, once
    assert out.loc[0, ["epochs_to_target", "time_to_target_s", "energy_to_target_j"]].tolist() == [2, 3.0, 20.0]
    assert bool(out.loc[0, "reached_target"]) and out.loc[0, "target_accuracy"] == 0.8
    assert out["reached_target"].dtype == "boolean"  # nullable, as the schema has it
    out = leaderboard.time_to_target(cases, epochs, 0.95)
    assert math.isnan(out.loc[0, "time_to_target_s"]) and not bool(out.loc[0, "reached_target"])


def test_eval_per_epoch_and_single_repeat_warning():
    assert leaderboard.eval_per_epoch_s(BOARD).iloc[0] == 0.5
    b = leaderboard.leaderboard(case_rows([("a", 32, 3.0, 0.9), ("b", 32, 4.0, 0.9), ("b", 32, 5.0, 0.9)]))
    assert leaderboard.single_repeat_warning(b) == (
        "This ranking rests on a single repeat for 1 of 2 configurations: their differences may be "
        "noise (no interval can be given). Rerun with --repeats 3 or more.")
    assert leaderboard.single_repeat_warning(b[b["repeats"] > 1]) == ""
    failed_only = leaderboard.leaderboard(case_rows([("a", 32, 3.0, 0.9), ("b", 32, 4.0, 0.9),
                                                     ("b", 32, 5.0, 0.9), ("c", 32, NAN, 0.1, "failed")]))
    assert "for 1 of 2 configurations" in leaderboard.single_repeat_warning(failed_only)  # c: no ok repeat


def test_configurations_without_an_ok_repeat_are_last_and_unranked():
    rows = case_rows([("a", 32, NAN, 0.5), ("z", 32, NAN, 0.1, "failed"), ("b", 32, 3.0, 0.9)])
    b = leaderboard.leaderboard(rows)
    assert b["optimizer_label"].tolist() == ["b", "a", "z"]
    assert b["rank"].tolist()[:2] == [1, 2] and b["rank"].isna().tolist() == [False, False, True]
    assert b["repeats"].tolist() == [1, 1, 0] and b["rows"].tolist() == [1, 1, 1]
    assert b["reached"].tolist() == [1, 0, 0] and b["reached"].dtype == int


def test_profiled_repeats_are_left_out_by_default():
    rows = case_rows([("a", 32, 3.0, 0.9), ("a", 32, 1.0, 0.9), ("b", 32, 2.0, 0.9)])
    rows.loc[1, "profiled"] = True
    b = leaderboard.leaderboard(rows).set_index("optimizer_label")
    assert (b.loc["a", "repeats"], b.loc["a", "time_to_target_s_median"]) == (1, 3.0)
    b = leaderboard.leaderboard(rows, include_profiled=True).set_index("optimizer_label")
    assert (b.loc["a", "repeats"], b.loc["a", "time_to_target_s_median"]) == (2, 2.0)


def test_unknown_reached_counts_as_not_reached_and_missing_axes_are_kept():
    rows = case_rows([("a", 32, 3.0, 0.9), ("a", 32, NAN, 0.5), ("b", 32, 2.0, 0.9)])
    rows["reached_target"] = pd.array([True, None, True], dtype="boolean")
    rows["schedule_label"] = ["constant", "constant", None]
    b = leaderboard.leaderboard(rows).set_index("optimizer_label")
    assert (b.loc["a", "reached"], b.loc["b", "reached"]) == (1, 1)
    assert (b.loc["b", "repeats"], b.loc["b", "rows"]) == (1, 1)  # its schedule unknown, still there
    assert b["energy_to_target_j_median_best"].tolist() == [True, False]


def test_exact_ties_keep_the_order_of_first_appearance():
    b = leaderboard.leaderboard(case_rows([("b", 32, 3.0, 0.9), ("a", 32, 3.0, 0.9)]))
    assert b["optimizer_label"].tolist() == ["b", "a"] and b["rank"].tolist() == [1, 1]


def test_a_metric_without_values_marks_no_best():
    b = leaderboard.leaderboard(case_rows([("a", 32, NAN, 0.5), ("b", 32, NAN, 0.6)]))
    assert b["energy_to_target_j_median_best"].tolist() == [False, False]
    assert b["time_to_target_s_median_best"].tolist() == [False, False]


PROFILE = case_rows([
    ("sgd", 32, 9.0, 0.9), ("sgd", 32, 11.0, 0.9), ("adam", 32, 4.0, 0.9), ("adam", 32, 6.0, 0.9),
    ("sgd", 64, 4.0, 0.9), ("adam", 64, 12.0, 0.9), ("adam", 64, 30.0, 0.9), ("adam", 64, 10.0, 0.9),
    ("sgd", 128, 6.0, 0.9), ("adam", 128, NAN, 0.5), ("adam", 128, 1.0, 0.9, "failed"),
    ("adam", 128, 1.0, 0.9, "skipped"),
    ("sgd", 256, 2.0, 0.9),
])


def test_performance_ratios_by_hand():
    r = perf_profile.performance_ratios(PROFILE)
    got = {(p, s): (t, x) for p, s, t, x in r[["problem", "solver", "time_to_target_s", "ratio"]].itertuples(
        index=False)}
    # medians: bs 32 sgd 10, adam 5; bs 64 sgd 4, adam 12 (of 10, 12, 30); bs 128 adam never (inf)
    assert got == {("bs 32", "sgd"): (10.0, 2.0), ("bs 32", "adam"): (5.0, 1.0),
                   ("bs 64", "sgd"): (4.0, 1.0), ("bs 64", "adam"): (12.0, 3.0),
                   ("bs 128", "sgd"): (6.0, 1.0), ("bs 128", "adam"): (math.inf, math.inf)}
    assert r.set_index(["problem", "solver"]).loc[("bs 128", "adam"), "repeats"] == 2  # skipped not counted


def test_profile_fractions_and_scores_by_hand():
    prof = perf_profile.performance_profile(PROFILE, taus=np.array([1.0, 2.0, 2.5, 3.0]))
    f = {(s, t): x for s, t, x in prof[["solver", "tau", "fraction"]].itertuples(index=False)}
    assert f[("sgd", 1.0)] == pytest.approx(2 / 3) and f[("sgd", 2.0)] == 1.0
    assert f[("adam", 1.0)] == pytest.approx(1 / 3) and f[("adam", 2.5)] == pytest.approx(1 / 3)
    assert f[("adam", 3.0)] == pytest.approx(2 / 3)  # a ratio of exactly tau counts
    scores = perf_profile.profile_scores(perf_profile.performance_ratios(PROFILE)).set_index("solver")
    # sgd: ((4-2) + 3 + 3) / 3 / 3 = 8/9; adam: (3 + (4-3) + 0) / 3 / 3 = 4/9
    assert scores.loc["sgd", "score"] == pytest.approx(8 / 9)
    assert scores.loc["adam", "score"] == pytest.approx(4 / 9)
    assert (scores.loc["sgd", "wins"], scores.loc["adam", "wins"]) == (2, 1)
    assert (scores.loc["sgd", "problems"], scores.loc["adam", "problems"]) == (3, 3)
    assert list(scores.index) == ["sgd", "adam"]


def test_default_taus_cover_every_ratio_and_past_four():
    prof = perf_profile.performance_profile(PROFILE)
    assert sorted(prof["tau"].unique().tolist()) == [1.0, 2.0, 3.0, 4.0]  # max(3 x 1.1, 4)
    big = case_rows([("a", 32, 1.0, 0.9), ("b", 32, 10.0, 0.9)])
    assert sorted(perf_profile.performance_profile(big)["tau"].unique().tolist()) == [1.0, 10.0, 11.0]


def test_problems_with_one_solver_are_left_out_and_named():
    notes = perf_profile.profile_notes(PROFILE)
    assert ("info", "left out: problem 'bs 256' (only 'sgd' ran on it)") in notes
    # single repeats: sgd on bs 64 and on bs 128
    assert notes[0] == ("warning", "2 of 6 problem × solver times come from a single repeat: "
                                   "ratios near 1 may be noise.")


def test_learning_rate_joins_the_solver_when_a_problem_holds_several():
    rows = case_rows([("sgd", 32, 2.0, 0.9, "ok", 0.1), ("sgd", 32, 4.0, 0.9, "ok", 0.01),
                      ("adam", 32, 3.0, 0.9, "ok", 0.1)])
    r = perf_profile.performance_ratios(rows).set_index("solver")
    assert r.loc["sgd / lr 0.1", "ratio"] == 1.0 and r.loc["sgd / lr 0.01", "ratio"] == 2.0
    assert r.loc["adam / lr 0.1", "ratio"] == 1.5


def test_no_solver_reached_gives_nan_ratios():
    rows = case_rows([("a", 32, NAN, 0.5), ("b", 32, NAN, 0.4)])
    r = perf_profile.performance_ratios(rows)
    assert r["ratio"].isna().all()
    assert perf_profile.profile_scores(r)["score"].tolist() == [0.0, 0.0]


def test_label_formats_by_hand():
    df = pd.DataFrame({"optimizer_label": ["adam", "sgd"], "num_replicas": [1, 2], "num_workers": [1, 4],
                       "batch_size": [128, 64.0], "learning_rate": [0.001, 0.0123456789], "epochs": [5, 6],
                       "run_id": ["a", "b"]})
    keys = ["optimizer_label", "num_replicas", "num_workers", "batch_size", "learning_rate", "epochs", "run_id"]
    assert labels.join_label(df, keys).tolist() == [
        "adam / 1 replica / 1 worker / bs 128 / lr 0.001 / 5 ep / run a",
        "sgd / 2 replicas / 4 workers / bs 64 / lr 0.0123457 / 6 ep / run b"]
    odd = pd.DataFrame({"batch_size": ["x", None], "learning_rate": ["y", 0.5]})
    assert labels.join_label(odd, ["batch_size", "learning_rate"]).tolist() == ["bs x / lr y", "? / lr 0.5"]
    assert labels.join_label(df, []).tolist() == ["all", "all"]


def test_label_keys_and_problem_keys():
    df = pd.DataFrame({"optimizer_label": ["a", "a", "b"], "batch_size": [32, 64, 32], "epochs": [3, 3, 3],
                       "learning_rate": [0.1, 0.2, 0.1], "run_id": ["r1", "r1", "r1"]})
    assert labels.label_keys(df) == ["optimizer_label", "batch_size", "learning_rate"]
    two_runs = pd.concat([df, df.assign(run_id="r2")])
    assert labels.label_keys(two_runs) == ["optimizer_label", "batch_size", "learning_rate", "run_id"]
    other_runs = pd.concat([df.iloc[:1], df.iloc[1:].assign(run_id="r2")])
    assert labels.label_keys(other_runs) == ["optimizer_label", "batch_size", "learning_rate"]
    out = labels.labelled(df)
    assert out["series"].tolist() == ["a / bs 32 / lr 0.1", "a / bs 64 / lr 0.2", "b / bs 32 / lr 0.1"]
    assert labels.problem_keys(out) == ["batch_size"]
    kept = labels.labelled(out.assign(series="x"))
    assert kept["series"].tolist() == ["x", "x", "x"]


def test_contended_repeats_are_counted_per_configuration():
    rows = case_rows([("a", 32, 3.0, 0.9), ("a", 32, 3.5, 0.9), ("a", 32, 4.0, 0.9), ("b", 32, 2.0, 0.9),
                      ("c", 32, NAN, 0.1, "failed")])
    rows["contended"] = pd.array([True, None, True, False, True], dtype="boolean")
    b = leaderboard.leaderboard(rows)
    assert b["optimizer_label"].tolist() == ["b", "a", "c"]  # c (no ok repeat) is kept
    assert b["contended_repeats"].tolist()[:2] == [0, 2]  # unknown counts as not contended
    assert pd.isna(b["contended_repeats"].iloc[2])  # c: no timed repeat
    assert list(b.columns)[list(b.columns).index("interval") + 1] == "contended_repeats"
    assert "contended_repeats" not in leaderboard.leaderboard(rows.drop(columns="contended")).columns


def test_many_left_out_problems_are_summarised():
    rows = case_rows([("sgd", bs, 2.0, 0.9) for bs in (1, 2, 3, 4)] + [("sgd", 8, 2.0, 0.9), ("adam", 8, 4.0, 0.9)])
    notes = perf_profile.profile_notes(rows)
    assert ("info", "left out: 4 problems a single optimizer ran on, e.g. 'bs 1' (only 'sgd' ran on it); "
                    "'bs 2' (only 'sgd' ran on it); 'bs 3' (only 'sgd' ran on it)") in notes
    assert notes[0] == ("warning", "2 of 2 problem × solver times come from a single repeat: "
                                   "ratios near 1 may be noise.")
    three = perf_profile.profile_notes(rows[rows["batch_size"] != 4])
    assert sum(level == "info" for level, _ in three) == 3


def test_profile_edges():
    rows = case_rows([("sgd", 32, 2.0, 0.9), ("sgd", 32, 2.0, 0.9), ("adam", 32, 3.0, 0.9), ("adam", 32, 3.0, 0.9)])
    assert perf_profile.profile_notes(rows) == []  # two repeats each, both solvers on the one problem
    assert perf_profile.solver_keys(rows.drop(columns="learning_rate"), []) == ["optimizer_label"]
    assert perf_profile.solver_keys(rows.iloc[:0], []) == ["optimizer_label"]
    assert perf_profile.performance_ratios(rows.drop(columns="learning_rate"))["ratio"].tolist() == [1.5, 1.0]
    empty = rows.assign(status="skipped")
    assert perf_profile.performance_ratios(empty).empty and perf_profile.profile_notes(empty) == []
    assert list(perf_profile.performance_profile(empty).columns) == ["solver", "optimizer_label", "tau", "fraction"]
    assert list(perf_profile.profile_scores(perf_profile.performance_ratios(empty)).columns) == [
        "solver", "optimizer_label", "problems", "wins", "score"]
    scores = perf_profile.profile_scores(perf_profile.performance_ratios(rows), tau_max=2.0).set_index("solver")
    assert scores.loc["adam", "score"] == 0.5 and scores.loc["sgd", "score"] == 1.0  # (2 - 1.5) / (2 - 1)
    prof = perf_profile.performance_profile(rows)
    assert prof[prof["solver"] == "adam"]["fraction"].tolist() == [0.0, 1.0, 1.0]  # tau 1, 1.5, 4


def test_profiled_rows_count_only_when_asked():
    rows = case_rows([("sgd", 32, 2.0, 0.9), ("sgd", 32, 9.0, 0.9), ("adam", 32, 3.0, 0.9)])
    rows.loc[0, "profiled"] = True
    r = perf_profile.performance_ratios(rows).set_index("solver")
    assert r.loc["sgd", "time_to_target_s"] == 9.0 and r.loc["adam", "ratio"] == 1.0
    r = perf_profile.performance_ratios(rows, include_profiled=True).set_index("solver")
    assert r.loc["sgd", "time_to_target_s"] == 5.5 and r.loc["sgd", "repeats"] == 2  # (2 + 9) / 2
    assert perf_profile.profile_notes(rows, include_profiled=True)[0][1].startswith("1 of 2")
    prof = perf_profile.performance_profile(rows, include_profiled=True)
    assert sorted(prof["tau"].unique().tolist()) == pytest.approx([1.0, 5.5 / 3, 4.0])


def test_score_of_a_ratio_past_tau_max_is_zero_not_negative():
    rows = case_rows([("sgd", 32, 1.0, 0.9), ("adam", 32, 5.0, 0.9)])
    scores = perf_profile.profile_scores(perf_profile.performance_ratios(rows)).set_index("solver")
    assert scores.loc["adam", "score"] == 0.0 and scores.loc["sgd", "score"] == 1.0  # not (4 - 5) / 3


def test_only_single_solver_problems_give_no_repeat_warning():
    notes = perf_profile.profile_notes(case_rows([("sgd", 1, 2.0, 0.9)]))
    assert notes == [("info", "left out: problem 'all' (only 'sgd' ran on it)")]  # no axis varies


def test_label_keys_edges():
    df = pd.DataFrame({"optimizer_label": ["a", "b"], "batch_size": [32, 64]})
    assert labels.label_keys(df) == ["optimizer_label", "batch_size"]  # no run_id column at all
    assert labels.series_keys(df) == ["optimizer_label", "batch_size"]  # nothing remembered: found again
    assert str(labels.join_label(df, []).dtype) == "string"
    # the configuration (a, unknown batch) appears in two runs: the run joins the label
    nan_cfg = pd.DataFrame({"optimizer_label": ["a", "a", "a"], "batch_size": [32, None, None],
                            "run_id": ["r1", "r1", "r2"]})
    assert labels.label_keys(nan_cfg) == ["optimizer_label", "batch_size", "run_id"]


def test_series_keys_are_remembered_after_filtering():
    df = pd.DataFrame({"optimizer_label": ["a", "a", "b"], "batch_size": [32, 64, 32]})
    out = labels.labelled(df)
    assert out.attrs["series_keys"] == ["optimizer_label", "batch_size"]
    only_32 = out[out["batch_size"] == 32]  # batch size no longer varies here
    assert labels.series_keys(only_32) == ["optimizer_label", "batch_size"]
    assert labels.problem_keys(only_32) == ["batch_size"]


def test_profile_defaults_and_labels():
    rows = case_rows([("sgd", 32, 2.0, 0.9), ("sgd", 32, 9.0, 0.9), ("adam", 32, 3.0, 0.9)])
    rows["profiled"] = pd.array([True, False, None], dtype="boolean")  # unknown: not profiled
    assert perf_profile.performance_ratios(rows).set_index("solver")["repeats"].to_dict() == {"adam": 1, "sgd": 1}
    prof = perf_profile.performance_profile(rows)  # profiled repeats left out by default: 9 vs 3
    assert sorted(prof["tau"].unique().tolist()) == [1.0, 3.0, 4.0]
    assert prof["optimizer_label"].tolist()[0] == "adam"
    assert perf_profile.profile_notes(rows)[0][1].startswith("2 of 2")
    never = case_rows([("a", 32, NAN, 0.5), ("b", 32, NAN, 0.4)])
    assert sorted(perf_profile.performance_profile(never)["tau"].unique().tolist()) == [1.0, 4.0]
    empty = perf_profile.performance_ratios(never.assign(status="skipped"))
    assert list(empty.columns)[-3:] == ["repeats", "time_to_target_s", "ratio"]


def test_profile_tables_columns_and_solver_order():
    r = perf_profile.performance_ratios(PROFILE)
    assert list(r.columns) == ["batch_size", "problem", "solver", "optimizer_label", "repeats",
                               "time_to_target_s", "ratio"]
    scores = perf_profile.profile_scores(r)
    assert list(scores.columns) == ["solver", "optimizer_label", "problems", "wins", "score"]
    assert list(scores.index) == [0, 1]
    # equal scores: solvers in name order, whatever order they appear in
    tie = case_rows([("zeta", 32, 2.0, 0.9), ("alpha", 32, 2.0, 0.9)])
    assert perf_profile.profile_scores(perf_profile.performance_ratios(tie))["solver"].tolist() == ["alpha", "zeta"]
    prof = perf_profile.performance_profile(tie)
    assert prof["solver"].unique().tolist() == ["alpha", "zeta"]
