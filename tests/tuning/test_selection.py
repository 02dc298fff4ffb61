"""Selection reads only validation; failures are the worst result; ties to the lower trial; Dodge's
expected best; the ranking says better / worse / tied (A/A: tied); the tuned report tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from harness import schema
from harness.analysis.tuned import tuned_tables
from harness.analysis.tuning import expected_best, problem_columns, ranking, ranks, select
from harness.run_meta import RunMeta, TuningRecord


def rows(spec, stage="trial", **common):
    """(optimizer, trial, validation_accuracy, test_accuracy[, status]) -> cases rows."""
    out = []
    for opt, trial, val, test, *status in spec:
        out.append({"optimizer": "adam", "optimizer_label": opt, "stage": stage, "trial": trial,
                    "learning_rate": 10.0 ** -trial, "tuned_params": json.dumps({"learning_rate": 10.0 ** -trial}),
                    "status": status[0] if status else "ok", "validation_accuracy": val, "validation_loss": 1 - val,
                    "test_accuracy": test, "dataset": "mnist-sample", "epochs": 1, "engine": "fast",
                    "seed": trial, "wall_s": 1.0, "reached_target": val >= 0.9, "time_to_target_s":
                    1.0 / val if val >= 0.9 else math.nan, **common})
    return schema.frame("cases", out)


def test_selection_reads_only_validation():
    # validation prefers trial 1, test prefers trial 2: the winner is trial 1
    cases = rows([("a", 0, 0.80, 0.95), ("a", 1, 0.93, 0.70), ("a", 2, 0.85, 0.99)])
    assert [s.trial for s in select(cases, "validation_accuracy", [3])] == [1]
    blind = cases.drop(columns=["test_accuracy", "test_loss"])  # test figures absent: same answer
    assert [s.trial for s in select(blind, "validation_accuracy", [3])] == [1]
    assert [s.trial for s in select(cases, "validation_loss", [3])] == [1]


def test_budgets_are_prefixes_failures_are_worst_and_ties_go_low():
    cases = rows([("a", 0, 0.5, 0.5), ("a", 1, 0.7, 0.7, "diverged"), ("a", 2, 0.6, 0.6), ("a", 3, 0.6, 0.6)])
    chosen = {s.budget: s.trial for s in select(cases, "validation_accuracy", [1, 2, 4])}
    assert chosen == {1: 0, 2: 0, 4: 2}  # the diverged trial is never the winner; 2 and 3 tie: 2


def test_time_to_target_not_reached_keeps_the_best_validation_accuracy():
    cases = rows([("a", 0, 0.5, 0.9), ("a", 1, 0.8, 0.2)])
    (s,) = select(cases, "time_to_target", [2])
    assert s.trial == 1 and s.reason.startswith("not reached")


def test_problem_is_every_axis_but_the_optimizers_own_and_the_tuned_keys():
    cols = problem_columns(schema.frame("cases", []))
    assert {"dataset", "epochs", "engine", "schedule", "strategy", "device", "precision"} <= set(cols)
    assert not {"optimizer", "optimizer_label", "optimizer_params", "learning_rate", "seed"} & set(cols)
    two = pd.concat([rows([("a", 0, 0.5, 0.5)]), rows([("a", 0, 0.6, 0.6)], epochs=2)], ignore_index=True)
    assert len(select(two, "validation_accuracy", [1])) == 2  # one selection per problem


def test_expected_best_is_non_decreasing_and_ends_at_the_best_trial():
    scores = np.array([0.3, 0.9, 0.1, 0.7, 0.7, 0.2])
    mean, sd = expected_best(scores)
    assert len(mean) == 6 and np.all(np.diff(mean) >= 0)
    assert mean[0] == pytest.approx(scores.mean()) and mean[-1] == pytest.approx(0.9) and sd[-1] == 0.0


def test_ranking_aa_is_tied_and_a_clear_gap_is_better_worse():
    rng = np.random.default_rng(0)
    same = rng.normal(0.9, 0.01, 10)
    aa = ranking({"adam": same, "adam (again)": rng.permutation(same)})
    assert aa["verdict"].tolist() == ["tied"]
    clear = ranking({"a": np.linspace(0.90, 0.91, 10), "b": np.linspace(0.80, 0.81, 10),
                     "c": np.linspace(0.80, 0.81, 10) + 1e-4})
    verdicts = {(r.a, r.b): r.verdict for r in clear.itertuples()}
    assert verdicts[("a", "b")] == "better" and verdicts[("a", "c")] == "better"
    assert ranks(clear, ["a", "b", "c"]) == {"a": 1, "b": 2, "c": 2}
    few = ranking({"a": np.array([0.9, 0.91]), "b": np.array([0.1, 0.11])})  # 2 seeds cannot support a rank
    assert few["verdict"].tolist() == ["tied"] and few["min_p_reachable"].iloc[0] == pytest.approx(1 / 6)


def test_tuned_tables_from_trials_and_finals():
    trials = rows([("a", 0, 0.80, 0.8), ("a", 1, 0.93, 0.9), ("b", 0, 0.85, 0.8), ("b", 1, 0.60, 0.6)])
    finals = rows([("a", 1, 0.93, 0.90 + i / 1000) for i in range(6)] +
                  [("b", 0, 0.85, 0.80 + i / 1000) for i in range(6)], stage="final")
    tables = tuned_tables(pd.concat([trials, finals], ignore_index=True), {"budgets": [1, 2]})
    tuned = tables["tuned"].set_index(["optimizer_label", "budget"])
    assert tuned.loc[("a", 2), "trial"] == 1 and tuned.loc[("b", 2), "trial"] == 0
    assert tuned.loc[("a", 2), "rank"] == 1 and tuned.loc[("b", 2), "rank"] == 2
    assert "better than b" in tuned.loc[("a", 2), "versus"]
    assert tuned.loc[("a", 2), "test_accuracy_median"] == pytest.approx(0.9025)
    assert tuned.loc[("a", 2), "tuneability"] == 0.5 and tuned.loc[("a", 2), "tuning_wall_s"] == 2.0
    exp = tables["tuned_expected"]
    assert exp[exp.optimizer_label == "a"]["expected_best"].iloc[-1] == pytest.approx(0.93)
    assert tables["tuned_trials"]["winner"].sum() == 2


def test_selection_record_round_trips_through_run_json():
    meta = RunMeta(tuning=TuningRecord(budgets=[1, 4], final_seeds=3, selections=[{"trial": 2}]))
    back = RunMeta.from_dict(meta.to_dict())
    assert back.tuning.budgets == [1, 4] and back.tuning.selections == [{"trial": 2}]
    assert "tuning" not in RunMeta().to_dict() and RunMeta.from_dict(RunMeta().to_dict()).tuning is None


def test_configuration_sections_compare_the_finals_and_say_where_the_trials_went():
    from harness.report.tables import compared_cases

    trials = rows([("a", 0, 0.80, 0.8), ("a", 1, 0.93, 0.9), ("b", 0, 0.85, 0.8)])
    finals = rows([("a", 1, 0.93, 0.9), ("b", 0, 0.85, 0.8)], stage="final")
    both = pd.concat([trials, finals], ignore_index=True)
    kept, notes = compared_cases(both)
    assert list(kept["stage"]) == ["final", "final"]
    assert len(notes) == 1 and notes[0][0] == "leaderboard" and notes[0][2].startswith("3 tuning trial run(s)")
    # a trials-only run (nothing selected yet) shows its trials everywhere; untuned runs are left alone
    assert compared_cases(trials)[0] is trials and compared_cases(trials)[1] == []
    plain = trials.drop(columns=["stage"])
    assert compared_cases(plain) == (plain, [])
