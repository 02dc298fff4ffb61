"""One label per configuration, no pooling, matched baselines, honest percentiles, the profile's
problems: checked against hand-made cases whose answers are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness import analysis, schema
from harness.analysis.frames import fill_labels
from harness.analysis.percentiles import needed
from harness.errors import ConfigError

BASE = {"status": "ok", "case_label": "c", "optimizer_label": "adam", "schedule_label": "constant",
        "engine": "fast", "strategy": "default", "device": "cpu", "precision": "float32", "num_replicas": 1,
        "num_workers": 1, "batch_size": 128, "learning_rate": 1e-3, "epochs": 5, "dataset": "mnist-sample",
        "run_id": "run-a", "suite": "s", "repeat": 0, "target_accuracy": 0.9}


def _cases(rows: list[dict]) -> pd.DataFrame:
    """Cases as :func:`harness.analysis.combine` gives them (``machine`` from run.json, default 'box')."""
    plain = [{k: v for k, v in {**BASE, **r}.items() if k != "machine"} for r in rows]
    machine = pd.Series([r.get("machine", "box") for r in rows], dtype="string")
    return fill_labels(schema.frame("cases", plain).assign(machine=machine))


def _one(df: pd.DataFrame, **where) -> pd.Series:
    mask = np.logical_and.reduce([df[k] == v for k, v in where.items()])
    assert mask.sum() == 1, (where, df)
    return df[mask].iloc[0]


def test_labels_tell_apart_what_the_old_ones_merged():
    # a combined optimizers + schedules report: adam/constant at 0.001 for 5 epochs and 0.002 for 6
    cases = _cases([
        {"case_id": "a", "run_id": "opt", "time_to_target_s": 1.0},
        {"case_id": "b", "run_id": "sched", "learning_rate": 2e-3, "epochs": 6, "time_to_target_s": 1.1},
        {"case_id": "c", "run_id": "sched", "learning_rate": 2e-3, "epochs": 6, "schedule_label": "cosine"},
    ])
    board = analysis.leaderboard(cases)
    assert sorted(board["series"]) == ["adam / constant / lr 0.001 / 5 ep", "adam / constant / lr 0.002 / 6 ep",
                                       "adam / cosine / lr 0.002 / 6 ep"]
    # strategies at 1 and 2 replicas: the replicas are in the label
    cases = _cases([{"case_id": "d"}, {"case_id": "m1", "strategy": "mirrored"},
                    {"case_id": "m2", "strategy": "mirrored", "num_replicas": 2}])
    assert set(analysis.leaderboard(cases)["series"]) == {
        "adam / default / 1 replica", "adam / mirrored / 1 replica", "adam / mirrored / 2 replicas"}


def test_the_run_joins_the_label_only_when_runs_repeat_a_configuration():
    same = _cases([{"case_id": "a", "run_id": "r1"}, {"case_id": "a", "run_id": "r2"}])
    assert set(analysis.leaderboard(same)["series"]) == {"adam / run r1", "adam / run r2"}
    machines = _cases([{"case_id": "a", "run_id": "r1", "machine": "m1"},
                       {"case_id": "a", "run_id": "r2", "machine": "m2"}])
    assert set(analysis.leaderboard(machines)["series"]) == {"adam / m1", "adam / m2"}


def _speed_cases() -> pd.DataFrame:
    rows = []
    for engine in ("fast", "keras_fit"):
        for batch, sps in ((1, 15_000.0), (128, 100_000.0), (4000, 170_000.0)):
            scale = 1.0 if engine == "fast" else 0.5
            rows.append({"engine": engine, "batch_size": batch, "samples_per_s": sps * scale})
        rows.append({"engine": engine, "strategy": "mirrored", "num_replicas": 2, "samples_per_s": 60_000.0 * scale})
        rows.append({"engine": engine, "strategy": "mirrored", "num_replicas": 1, "samples_per_s": 80_000.0 * scale})
    return _cases([{**r, "case_id": f"{r['engine']}{r.get('batch_size', 128)}"
                    f"{r.get('strategy', 'd')}{r.get('num_replicas', 1)}"} for r in rows])


def test_throughput_pools_nothing_and_matches_the_default_strategy():
    table = analysis.throughput(_speed_cases())
    assert table["series"].is_unique and len(table) == 10 and (table["rows"] == 1).all()
    m2 = _one(table, engine="keras_fit", strategy="mirrored", num_replicas=2)
    # baseline: the default strategy of the same engine and batch size (not the slowest group)
    assert m2["baseline_series"] == "adam / keras_fit / default / 1 replica / bs 128"
    assert m2["speedup_vs_baseline"] == pytest.approx(30_000 / 50_000)
    b1 = _one(table, engine="fast", batch_size=1)
    assert b1["speedup_vs_baseline"] == pytest.approx(1.0) and b1["baseline"]
    chosen = analysis.throughput(_speed_cases(), baseline="engine=keras_fit")
    fast = _one(chosen, engine="fast", batch_size=4000)
    assert fast["speedup_vs_baseline"] == pytest.approx(2.0)
    assert fast["baseline_series"] == "adam / keras_fit / default / 1 replica / bs 4000"
    with pytest.raises(ConfigError, match="no configuration matches"):
        analysis.throughput(_speed_cases(), baseline="engine=nope")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        analysis.throughput(_speed_cases(), baseline="fast")


def test_baselines_stay_within_their_run_when_runs_are_added():
    run_a = _cases([{"case_id": "d", "samples_per_s": 100.0}, {"case_id": "m", "strategy": "mirrored",
                                                                 "num_replicas": 2, "samples_per_s": 44.31}])
    run_b = run_a.assign(run_id="run-b", samples_per_s=run_a["samples_per_s"] * [0.9, 1.0])
    alone = _one(analysis.throughput(run_a), strategy="mirrored")["speedup_vs_baseline"]
    both = analysis.throughput(pd.concat([run_a, run_b], ignore_index=True))
    assert _one(both, strategy="mirrored", series="adam / mirrored / 2 replicas / run run-a")[
        "speedup_vs_baseline"] == pytest.approx(alone) == pytest.approx(0.4431)
    assert _one(both, strategy="mirrored", series="adam / mirrored / 2 replicas / run run-b")[
        "speedup_vs_baseline"] == pytest.approx(44.31 / 90)


def test_scaling_has_two_distinct_speedups():
    table = analysis.strategy_scaling(_speed_cases()).set_index("series")
    m2 = table.loc["adam / fast / mirrored / 2 replicas / bs 128"]
    assert m2["speedup_vs_default"] == pytest.approx(0.6) and m2["efficiency"] == pytest.approx(0.3)
    assert m2["scaling_vs_1_unit"] == pytest.approx(60 / 80)
    assert m2["default_series"] == "adam / fast / default / 1 replica / bs 128"
    assert math.isnan(table.loc["adam / fast / default / 1 replica / bs 1", "speedup_vs_default"]) is False
    assert "speedup" not in table.columns
    assert analysis.strategy_scaling(_cases([{"case_id": "x", "samples_per_s": 1.0}])).empty


def test_percentiles_are_per_update_only_where_updates_were_timed():
    rows = [
        {"case_id": "s", "engine": "eager", "step_time_basis": "per_step", "steps": 500,
         "step_ms_p50": 1.0, "step_ms_p90": 2.0, "step_ms_p99": 3.0},
        {"case_id": "c5", "engine": "fast", "step_time_basis": "per_chunk/100", "steps": 500,
         "step_ms_p50": 0.5, "step_ms_p90": 0.6, "step_ms_p99": 0.6},
        {"case_id": "c200", "engine": "keras_fit", "step_time_basis": "per_chunk/5", "steps": 1000,
         "step_ms_p50": 0.7, "step_ms_p90": 0.8, "step_ms_p99": 0.9},
    ]
    table = analysis.throughput(_cases([{**r, "samples_per_s": 1.0} for r in rows])).set_index("engine")
    assert table.loc["eager", ["step_ms_p50", "step_ms_p90", "step_ms_p99"]].tolist() == [1.0, 2.0, 3.0]
    assert table.loc["eager", ["chunk_ms_p50", "chunk_ms_p90"]].isna().all()
    fast = table.loc["fast"]
    assert fast["observations"] == 5 and fast["chunk_ms_p50"] == 0.5
    assert math.isnan(fast["chunk_ms_p90"]) and math.isnan(fast["step_ms_p50"])
    assert fast["percentile_note"] == "5 chunks timed per repeat: p90 needs 10, p99 needs 100"
    assert table.loc["keras_fit", ["chunk_ms_p50", "chunk_ms_p90", "chunk_ms_p99"]].tolist() == [0.7, 0.8, 0.9]
    assert (needed(0.5), needed(0.9), needed(0.99)) == (2, 10, 100)


def test_profile_problems_are_every_non_optimizer_axis_and_stable_when_runs_are_added():
    run_a = [{"case_id": f"a{o}", "optimizer_label": o, "learning_rate": lr, "time_to_target_s": t}
             for o, lr, t in (("adam", 1e-3, 2.0), ("sgd", 1e-1, 4.0))]
    alone = analysis.performance_ratios(_cases(run_a)).set_index("solver")["ratio"].to_dict()
    assert alone == {"adam": 1.0, "sgd": 2.0}  # one problem; the learning rate belongs to the optimizer
    run_b = [{"case_id": f"b{o}", "run_id": "run-b", "optimizer_label": o, "learning_rate": 2e-3, "epochs": 6,
              "time_to_target_s": t} for o, t in (("adam", 3.0), ("nadam", 1.5))]
    run_c = [{"case_id": "c", "run_id": "run-c", "batch_size": 512, "optimizer_label": "adamw", "time_to_target_s": 0.1}]
    cases = _cases(run_a + run_b + run_c)
    ratios = analysis.performance_ratios(cases)
    first = ratios[ratios["epochs"] == 5].set_index("solver")["ratio"].to_dict()
    assert first == alone  # adding runs added problems and changed no ratio
    assert set(ratios["problem"]) == {"bs 128 / 5 ep", "bs 128 / 6 ep"}
    assert analysis.profile_notes(cases) == [
        ("warning", "4 of 4 problem × solver times come from a single repeat: ratios near 1 may be noise."),
        ("info", "left out: problem 'bs 512 / 5 ep' (only 'adamw' ran on it)")]
    # one problem holding adam at two rates: the rate joins the solver
    sweep = _cases([{"case_id": "x", "time_to_target_s": 1.0},
                    {"case_id": "y", "learning_rate": 1e-2, "time_to_target_s": 2.0}])
    assert set(analysis.performance_ratios(sweep)["solver"]) == {"adam / lr 0.001", "adam / lr 0.01"}


def test_lr_sensitivity_and_pareto():
    rows = [{"case_id": f"{o}{lr}", "optimizer_label": o, "learning_rate": lr, "test_accuracy": acc,
             "time_to_target_s": t, "energy_to_target_j": e, "compile_s": 1.0, "eval_s": 0.5,
             "epochs_to_target": 1}
            for o, lr, acc, t, e in (("adam", 1e-3, 0.95, 1.0, 10.0), ("adam", 1e-2, 0.90, 2.0, 5.0),
                                     ("sgd", 1e-1, 0.93, 3.0, 20.0))]
    cases = _cases(rows)
    sens = analysis.lr_sensitivity(cases)
    assert sens["line"].unique().tolist() == ["adam"] and sens["learning_rate"].tolist() == [1e-3, 1e-2]
    assert sens["test_accuracy_median"].tolist() == [0.95, 0.90]
    trade = analysis.tradeoffs(analysis.leaderboard(cases)).set_index("series")
    assert trade["pareto_energy"].to_dict() == {"adam / lr 0.001": True, "adam / lr 0.01": True, "sgd / lr 0.1": False}
    assert trade.loc["adam / lr 0.001", "wall_to_target_s_median"] == pytest.approx(1.0 + 1.0 + 0.1)
    assert analysis.lr_sensitivity(_cases([{"case_id": "z"}])).empty


def test_composition_warnings():
    cases = _cases([{"case_id": "a", "suite": "optimizers", "run_id": "r1"},
                    {"case_id": "b", "suite": "schedules", "run_id": "r2", "target_accuracy": 0.85}])
    text = " ".join(analysis.composition_warnings(cases))
    assert "different suites are combined (optimizers, schedules)" in text
    assert "Target accuracies differ (0.85, 0.9)" in text
    assert analysis.composition_warnings(_cases([{"case_id": "a"}])) == []


def test_contention_flags_are_shown_when_recorded():
    cases = _cases([{"case_id": "a", "repeat": 0, "contended": True, "other_cpu_share": 0.3, "samples_per_s": 1.0},
                    {"case_id": "a", "repeat": 1, "contended": False, "other_cpu_share": 0.01, "samples_per_s": 2.0}])
    assert analysis.leaderboard(cases)["contended_repeats"].tolist() == [1]
    assert analysis.throughput(cases)["contended_repeats"].tolist() == [1]
    text = analysis.composition.contention_warning(cases)
    assert text.startswith("1 of 2 timed repeats ran under contention") and "30%" in text
    assert "contended_repeats" not in analysis.leaderboard(_cases([{"case_id": "b"}])).columns


def test_figure_encodings():
    from harness.report import style

    colours = style.palette([f"opt{i}" for i in range(19)])
    assert len(set(colours.values())) == 19  # no repeated colour up to 20 optimizers
    df = pd.DataFrame({"series": [f"s{i}" for i in range(17)], "optimizer_label": "adam",
                       "engine": ["fast"] * 9 + ["keras_fit"] * 8})
    panels = style.facets(df, ["optimizer_label", "engine"])
    assert [t for t, _ in panels] == ["series 1–8 of 17", "series 9–16 of 17", "series 17–17 of 17"]
    df["strategy"] = [f"st{i % 3}" for i in range(17)]
    by_strategy = style.facets(df, ["optimizer_label", "strategy"])
    assert [t for t, _ in by_strategy] == ["strategy = st0", "strategy = st1", "strategy = st2"]
    assert style.scale([2.4e-5, 3e-5], "J") == (1e-6, "µJ") and style.scale([0.0021], "s") == (1e-3, "ms")


def test_two_runs_of_one_machine_keep_every_configuration_apart(tmp_path):
    import tests.helpers.report_synthetic as rs
    from harness.report import build_tables

    rs.write_synthetic_run(tmp_path, "run-a", "box")
    rs.write_synthetic_run(tmp_path, "run-b", "box")
    tables = build_tables([tmp_path])
    for name in ("leaderboard", "throughput", "tradeoffs"):
        assert tables[name]["series"].is_unique, name
    assert "adam / constant / run run-b" in set(tables["leaderboard"]["series"])
    assert len(tables["leaderboard"]) == 14 and len(tables["throughput"]) == 10
    energy = tables["energy"]
    assert energy.groupby("series")["repeats"].max().max() == 2  # adam constant: its 2 ok repeats, one run
    ratios = tables["profile_ratios"]
    assert set(ratios["problem"]) == {"constant / run run-a", "constant / run run-b",
                                      "inverse_power / run run-a", "inverse_power / run run-b"}
