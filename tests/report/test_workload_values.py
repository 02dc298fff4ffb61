"""Reports by workload, values by hand: the model in labels and problems, ranks and bests per workload.

Two workloads, "mlp" appearing first (alphabetically after "cnn", so an alphabetical
grouping would show). Each row: (model, optimizer, time to target s or NaN, test accuracy).
"""

from __future__ import annotations

import importlib
import math

import pandas as pd
import pytest

from harness.analysis import labels, perf_profile

leaderboard = importlib.import_module("harness.analysis.leaderboard")  # the package re-exports a function

NAN = math.nan


def rows(spec: list[tuple]) -> pd.DataFrame:
    out = []
    for i, (model, opt, t, acc) in enumerate(spec):
        out.append({
            "run_id": "r1", "case_id": f"{model}-{opt}", "repeat": i, "optimizer_label": opt,
            "schedule_label": "constant", "engine": "fast", "batch_size": 32, "learning_rate": 0.01,
            "epochs": 3, "model_label": model, "status": "ok", "profiled": False, "time_to_target_s": t,
            "reached_target": not math.isnan(t), "target_accuracy": 0.9, "test_accuracy": acc,
            "compile_s": 1.0, "eval_s": 0.3, "epochs_to_target": NAN if math.isnan(t) else 1.0,
            "energy_to_target_j": NAN if math.isnan(t) else 10 * t, "energy_source": "rapl",
            "samples_per_s": 1000.0 / (t if not math.isnan(t) else 50.0),
        })
    return pd.DataFrame(out)


CASES = rows([
    ("mlp", "adam", 2.0, 0.97), ("mlp", "adam", 3.0, 0.97), ("mlp", "adam", 4.0, 0.97),
    ("mlp", "sgd", 5.0, 0.96), ("mlp", "sgd", 6.0, 0.96), ("mlp", "sgd", 7.0, 0.96),
    ("cnn", "sgd", 20.0, 0.99), ("cnn", "sgd", 21.0, 0.99), ("cnn", "sgd", 22.0, 0.99),
    ("cnn", "adam", 21.5, 0.98), ("cnn", "adam", 30.0, 0.98), ("cnn", "adam", 31.0, 0.98),
    ("cnn", "rmsprop", NAN, 0.80), ("cnn", "rmsprop", NAN, 0.81), ("cnn", "rmsprop", NAN, 0.82),
])


def test_each_workload_is_ranked_on_its_own_in_suite_order():
    b = leaderboard.leaderboard(CASES)
    # mlp first (it comes first in the cases, not alphabetically); within it adam [2, 4] is wholly
    # faster than sgd [5, 7]: 1, 2. cnn: sgd [20, 22] and adam [21.5, 31] overlap: both 1, tied, sgd
    # first (median 21 < 30); rmsprop never reached: after cnn's 2 fast ones, rank 2 + 1 = 3.
    # Ranked over the whole board instead: 1, 2, 3, 3, 5.
    assert b["series"].tolist() == ["adam / mlp", "sgd / mlp", "sgd / cnn", "adam / cnn", "rmsprop / cnn"]
    assert b["rank"].tolist() == [1, 2, 1, 1, 3]
    assert b["tied"].tolist() == [False, False, True, True, False]
    assert b["model_label"].tolist() == ["mlp", "mlp", "cnn", "cnn", "cnn"]
    assert b["time_to_target_s_median"].tolist() == [3.0, 6.0, 21.0, 30.0, math.inf]
    assert list(b.index) == [0, 1, 2, 3, 4]
    assert "_workload" not in b.columns
    # wall = compile 1 + t + 1 epoch x 0.3 s / 3 epochs = t + 1.1
    assert b["wall_to_target_s_median"].tolist()[:4] == [4.1, 7.1, 22.1, 31.1]


def test_best_marks_are_per_workload():
    b = leaderboard.leaderboard(CASES)
    # times of different models do not compare: each workload's fastest and most accurate are marked
    assert b["time_to_target_s_median_best"].tolist() == [True, False, True, False, False]
    assert b["test_accuracy_median_best"].tolist() == [True, False, True, False, False]  # 0.97; 0.99
    assert b["energy_to_target_j_median_best"].tolist() == [True, False, True, False, False]  # 30 J; 210 J
    assert b["samples_per_s_median_best"].tolist() == [True, False, True, False, False]
    one = leaderboard.leaderboard(CASES[CASES["model_label"] == "cnn"])  # no workload axis: one board
    assert one["series"].tolist() == ["sgd", "adam", "rmsprop"]
    assert one["rank"].tolist() == [1, 1, 3]
    assert one["time_to_target_s_median_best"].tolist() == [True, False, False]


def test_a_workload_reached_by_nobody_is_ranked_on_accuracy_alone():
    cases = rows([("mlp", "adam", 2.0, 0.97), ("mlp", "sgd", 3.0, 0.96),
                  ("cnn", "adam", NAN, 0.70), ("cnn", "adam", NAN, 0.71),
                  ("cnn", "sgd", NAN, 0.60), ("cnn", "sgd", NAN, 0.61)])
    b = leaderboard.leaderboard(cases)
    # cnn has no fast configuration: its accuracy ranks start at 0 + 1 (not after mlp's 2)
    assert b["series"].tolist() == ["adam / mlp", "sgd / mlp", "adam / cnn", "sgd / cnn"]
    assert b["rank"].tolist() == [1, 2, 1, 2]
    assert b["time_to_target_s_median_best"].tolist() == [True, False, False, False]  # cnn: no time to mark
    assert b["test_accuracy_median_best"].tolist() == [True, False, True, False]  # 0.97; 0.705


def test_the_model_is_in_the_series_label_and_the_problem():
    keys = labels.label_keys(CASES)
    assert keys == ["optimizer_label", "model_label"]
    assert labels.problem_keys(labels.labelled(CASES)) == ["model_label"]
    r = perf_profile.performance_ratios(CASES)
    got = {(p, s): (t, x) for p, s, t, x in r[["problem", "solver", "time_to_target_s", "ratio"]].itertuples(
        index=False)}
    # medians: mlp adam 3, sgd 6 -> 1, 2; cnn sgd 21, adam 30 -> 30/21, rmsprop never -> inf
    assert got == {("mlp", "adam"): (3.0, 1.0), ("mlp", "sgd"): (6.0, 2.0), ("cnn", "sgd"): (21.0, 1.0),
                   ("cnn", "adam"): (30.0, 30.0 / 21.0), ("cnn", "rmsprop"): (math.inf, math.inf)}
    assert r["model_label"].tolist() == r["problem"].tolist()
    scores = perf_profile.profile_scores(r).set_index("solver")
    # adam: (3 + (4 - 30/21)) / 2 / 3 = (7 - 10/7) / 6 = 39/42 = 13/14; sgd: ((4 - 2) + 3) / 2 / 3 = 5/6;
    # rmsprop: 0 on its one problem
    assert scores["score"].to_dict() == pytest.approx({"adam": 13 / 14, "sgd": 5 / 6, "rmsprop": 0.0})
    assert scores.loc["adam", "wins"] == 1 and scores.loc["rmsprop", "problems"] == 1


def test_profile_notes_name_the_workload_problem():
    cases = pd.concat([CASES, rows([("vit", "adam", 9.0, 0.9)])], ignore_index=True)
    notes = perf_profile.profile_notes(cases)
    # every ratio rests on 3 repeats: no warning, only the left-out problem, named by its model
    assert notes == [("info", "left out: problem 'vit' (only 'adam' ran on it)")]


def test_time_to_target_reads_validation_accuracy_where_the_epoch_has_it():
    cases = rows([("mlp", "adam", NAN, 0.5), ("mlp", "sgd", NAN, 0.5)])
    cases["case_id"] = ["a", "b"]
    cases["repeat"] = 0
    epochs = pd.DataFrame({
        "run_id": "r1", "case_id": ["a", "a", "a", "b", "b"], "repeat": 0, "epoch": [1, 2, 3, 1, 2],
        # case a: test accuracy reaches 0.9 at epoch 1, validation only at epoch 3 (exactly 0.9);
        # case b: no validation figure (NaN): its test accuracy counts, 0.9 at epoch 2
        "test_accuracy": [0.95, 0.95, 0.95, 0.5, 0.9], "validation_accuracy": [0.8, 0.89, 0.9, NAN, NAN],
        "cum_train_s": [1.0, 2.0, 3.0, 1.5, 3.5], "cum_energy_j": [10.0, 20.0, 30.0, 15.0, 35.0],
    })
    out = leaderboard.time_to_target(cases, epochs, 0.9)
    assert out["epochs_to_target"].tolist() == [3, 2]
    assert out["time_to_target_s"].tolist() == [3.0, 3.5]
    assert out["energy_to_target_j"].tolist() == [30.0, 35.0]
    assert out["reached_target"].tolist() == [True, True]
    # without the validation column, the test accuracy decides: a at epoch 1
    out = leaderboard.time_to_target(cases, epochs.drop(columns="validation_accuracy"), 0.9)
    assert out["epochs_to_target"].tolist() == [1, 2]


def test_an_unknown_workload_is_a_workload_of_its_own():
    # an older run without model_label combined with a newer one: its configurations stay on the
    # board ("?"), in the order the cases give (first here), ranked and marked among themselves
    cases = rows([(None, "adam", 5.0, 0.90), (None, "sgd", 4.0, 0.91),
                  ("mlp", "adam", 2.0, 0.97), ("mlp", "sgd", 3.0, 0.96)])
    b = leaderboard.leaderboard(cases)
    assert b["series"].tolist() == ["sgd / ?", "adam / ?", "adam / mlp", "sgd / mlp"]
    assert b["rank"].tolist() == [1, 2, 1, 2]
    assert b["time_to_target_s_median_best"].tolist() == [True, False, True, False]
    assert b["test_accuracy_median_best"].tolist() == [True, False, True, False]
