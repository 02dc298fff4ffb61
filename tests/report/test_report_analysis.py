"""The tables behind the plots, against values computed by hand from report_synthetic.SPECS."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from report_synthetic import SKIP_REASON

from harness import analysis, schema
from harness.analysis import EnergyFactors
from harness.errors import ConfigError
from harness.report import ReportOptions, build_tables


def _row(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, (where, df)
    return df[mask].iloc[0]


def test_leaderboard_order_and_values(tables):
    board = tables["leaderboard"]
    order = list(zip(board["optimizer_label"], board["schedule_label"], strict=True))
    # reached the target, fastest first: momentum/constant 1 s, adam/constant mean(2, 4) = 3 s,
    # adam/inverse_power 3.5 s, momentum/inverse_power 6 s; then sgd/constant (0.85, never
    # reached); then the configurations without an ok repeat.
    assert order[:5] == [
        ("momentum-0.9", "constant"),
        ("adam", "constant"),
        ("adam", "inverse_power"),
        ("momentum-0.9", "inverse_power"),
        ("sgd", "constant"),
    ]
    assert set(order[5:]) == {("sgd", "inverse_power"), ("muon", "constant")}
    adam = _row(board, optimizer_label="adam", schedule_label="constant")
    assert adam["repeats"] == 2 and adam["rows"] == 3  # the profiled repeat is left out
    assert adam["time_to_target_s_mean"] == pytest.approx(3.0)
    assert adam["energy_to_target_j_mean"] == pytest.approx((20 + 36) / 2)
    assert adam["test_accuracy_mean"] == pytest.approx(0.91)
    assert adam["test_accuracy_std"] == pytest.approx(np.std([0.92, 0.90], ddof=1))
    assert adam["samples_per_s_mean"] == pytest.approx(1100.0)
    assert adam["energy_source"] == "estimated"
    best = {c: board.loc[board[f"{c}_best"], "optimizer_label"].tolist() for c in
            ("test_accuracy_mean", "time_to_target_s_mean", "samples_per_s_mean")}
    assert best == {"test_accuracy_mean": ["momentum-0.9"], "time_to_target_s_mean": ["momentum-0.9"],
                    "samples_per_s_mean": ["sgd"]}
    assert math.isnan(_row(board, optimizer_label="sgd", schedule_label="constant")["time_to_target_s_mean"])


def test_leaderboard_include_profiled(synthetic_dir):
    board = build_tables([synthetic_dir], ReportOptions(include_profiled=True))["leaderboard"]
    adam = _row(board, optimizer_label="adam", schedule_label="constant")
    assert adam["repeats"] == 3
    assert adam["time_to_target_s_mean"] == pytest.approx((2 + 4 + 5) / 3)


def test_time_to_target_recomputed_from_epochs(synthetic_dir):
    tables = build_tables([synthetic_dir], ReportOptions(target=0.85))
    board = tables["leaderboard"]
    adam = _row(board, optimizer_label="adam", schedule_label="constant")
    assert adam["time_to_target_s_mean"] == pytest.approx((1.0 + 2.0) / 2)  # epoch 1 and epoch 2
    sgd = _row(board, optimizer_label="sgd", schedule_label="constant")
    assert sgd["time_to_target_s_mean"] == pytest.approx(1.5)  # 0.85 at epoch 3: 3 x 0.5 s
    assert sgd["energy_to_target_j_mean"] == pytest.approx(15.0)
    assert (board["target_accuracy"].dropna() == 0.85).all()


def test_performance_profile(tables):
    ratios = tables["profile_ratios"].set_index(["problem", "optimizer_label"])["ratio"]
    assert ratios[("constant", "adam")] == pytest.approx(3.0)  # median(2, 4) / 1
    assert ratios[("constant", "momentum-0.9")] == pytest.approx(1.0)
    assert ratios[("inverse_power", "adam")] == pytest.approx(1.0)
    assert ratios[("inverse_power", "momentum-0.9")] == pytest.approx(6.0 / 3.5)
    assert np.isinf(ratios[("constant", "sgd")]) and np.isinf(ratios[("inverse_power", "sgd")])
    assert np.isinf(ratios[("constant", "muon")])
    assert ("inverse_power", "muon") not in ratios.index  # not run there: not counted against it
    prof = tables["profile"]

    def rho(opt: str, tau: float) -> float:
        g = prof[(prof["optimizer_label"] == opt) & (prof["tau"] <= tau + 1e-12)]
        return float(g.sort_values("tau")["fraction"].iloc[-1])

    assert rho("adam", 1.0) == 0.5 and rho("adam", 2.9) == 0.5 and rho("adam", 3.0) == 1.0
    assert rho("momentum-0.9", 1.0) == 0.5 and rho("momentum-0.9", 6 / 3.5) == 1.0
    assert rho("sgd", 100) == 0.0 and rho("muon", 100) == 0.0


def test_energy_per_example_idle_and_carbon(synthetic_dir):
    factors = EnergyFactors(carbon_intensity_g_per_kwh=400, pue=1.5, price_per_kwh=0.2)
    energy = build_tables([synthetic_dir], ReportOptions(factors=factors))["energy"]
    adam = _row(energy, case_label="adam constant")
    assert adam["energy_j"] == pytest.approx(33.0)  # mean(30, 36); the profiled 150 J left out
    assert adam["energy_per_sample_j"] == pytest.approx((30 / 12000 + 36 / 12000) / 2)
    assert adam["idle_energy_j"] == pytest.approx(2.0 * 3.5)  # 2 W x mean window (3 s, 4 s)
    assert adam["dynamic_energy_j"] == pytest.approx(33.0 - 7.0)
    kwh = 33.0 / 3.6e6 * 1.5
    assert adam["energy_kwh"] == pytest.approx(kwh)
    assert adam["carbon_g"] == pytest.approx(kwh * 400)  # 5.5e-3 g
    assert adam["cost"] == pytest.approx(kwh * 0.2)
    assert adam["carbon_to_target_g"] == pytest.approx(28.0 / 3.6e6 * 1.5 * 400)
    assert adam["cpu_energy_source"] == "estimate_tdp" and adam["energy_source"] == "estimated"
    assert math.isnan(adam["gpu_energy_j"]) and adam["gpu_energy_source"] == "unavailable"
    rapl = _row(energy, case_label="sgd constant")
    assert rapl["cpu_package_energy_j"] == pytest.approx(12.0) and rapl["dram_energy_j"] == pytest.approx(3.0)


def test_energy_sources_statement(tables):
    src = tables["energy_sources"].set_index("cpu_energy_source")
    assert src.loc["estimate_tdp", "rows"] == 3  # every ok row, the profiled one included
    assert src.loc["estimate_tdp", "cpu_tdp_w"] == 65.0
    assert src.loc["estimate_tdp", "cpu_tdp_origin"] == "table:Test CPU"
    assert src.loc["rapl", "rows"] == 4


def test_status_and_reasons(tables):
    status = tables["status"].iloc[0]
    assert (status["rows"], status["ok"], status["failed"], status["skipped"]) == (9, 7, 1, 1)
    problems = tables["problems"].set_index("status")
    assert problems.loc["skipped", "error"] == SKIP_REASON
    assert "<script>" in problems.loc["failed", "error"]  # raw in the table, escaped when rendered


def test_learning_curves_and_rates(tables):
    curves = tables["learning_curves"]
    adam3 = _row(curves, optimizer_label="adam", schedule_label="constant", epoch=3)
    assert adam3["test_accuracy_mean"] == pytest.approx(0.91)
    assert adam3["cum_train_s_mean"] == pytest.approx((3 + 4) / 2)
    lr = tables["learning_rates"]
    assert _row(lr, schedule_label="inverse_power", epoch=3)["learning_rate_in_force_median"] == pytest.approx(0.0005)


def _cases(rows):
    base = {"status": "ok", "case_label": "c", "optimizer_label": "adam", "strategy": "default",
            "device": "cpu", "precision": "float32", "num_replicas": 1, "num_workers": 1}
    return analysis.frames.fill_labels(schema.frame("cases", [{**base, **r} for r in rows]))


def test_throughput_speedups_against_baseline():
    cases = _cases([
        {"engine": "fast", "samples_per_s": 500_000.0, "step_ms_p50": 0.25},
        {"engine": "fast", "samples_per_s": 400_000.0, "step_ms_p50": 0.3},
        {"engine": "keras_fit", "samples_per_s": 100_000.0},
        {"engine": "eager", "samples_per_s": 16_000.0},
        {"engine": "eager", "samples_per_s": 1.0, "profiled": True},
    ])
    table = analysis.throughput(cases, baseline="engine=keras_fit").set_index("engine")
    assert table.loc["fast", "speedup"] == pytest.approx(4.5)
    assert table.loc["eager", "speedup"] == pytest.approx(0.16)
    assert table.loc["fast", "step_ms_p50"] == pytest.approx(0.275)
    assert table["baseline"].sum() == 1 and table.loc["keras_fit", "baseline"]
    default = analysis.throughput(cases).set_index("engine")
    assert default.loc["eager", "baseline"] and default.loc["fast", "speedup"] == pytest.approx(450 / 16)
    with pytest.raises(ConfigError, match="no group matches"):
        analysis.throughput(cases, baseline="engine=nope")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        analysis.throughput(cases, baseline="fast")


def test_strategy_scaling():
    cases = _cases([
        {"strategy": "default", "samples_per_s": 100.0},
        {"strategy": "mirrored", "num_replicas": 2, "samples_per_s": 150.0},
        {"strategy": "multi_worker_mirrored", "num_replicas": 2, "num_workers": 2, "samples_per_s": 180.0},
    ])
    table = analysis.strategy_scaling(cases).set_index("strategy")
    assert table.loc["mirrored", "speedup"] == pytest.approx(1.5)
    assert table.loc["mirrored", "efficiency"] == pytest.approx(0.75)
    assert table.loc["multi_worker_mirrored", "efficiency"] == pytest.approx(0.9)
    assert math.isnan(table.loc["mirrored", "scaling_vs_1_unit"])  # no mirrored-1 ran


def test_strategy_scaling_baseline_is_the_default_strategy():
    cases = _cases([
        {"strategy": "central_storage", "samples_per_s": 50.0},
        {"strategy": "default", "samples_per_s": 100.0},
        {"strategy": "mirrored", "samples_per_s": 80.0},
        {"strategy": "mirrored", "num_replicas": 2, "samples_per_s": 120.0},
    ])
    table = analysis.strategy_scaling(cases).set_index(["strategy", "num_replicas"])
    assert table.loc[("default", 1), "speedup"] == pytest.approx(1.0)
    assert table.loc[("central_storage", 1), "speedup"] == pytest.approx(0.5)
    assert table.loc[("mirrored", 2), "speedup"] == pytest.approx(1.2)
    assert table.loc[("mirrored", 2), "scaling_vs_1_unit"] == pytest.approx(1.5)
    assert table.loc[("mirrored", 2), "efficiency"] == pytest.approx(0.6)


def test_units():
    assert analysis.unit("samples_per_s_median") == "examples/s"
    assert analysis.unit("test_accuracy_std") == "fraction"
    assert analysis.unit("carbon_g") == "gCO2e"
    assert analysis.unit("energy_per_sample_j") == "J/example"
    assert analysis.unit("step_ms_p99") == "ms"


def test_factors_validate():
    with pytest.raises(ValueError, match="PUE"):
        EnergyFactors(pue=0.9)
    with pytest.raises(ValueError, match="carbon"):
        EnergyFactors(carbon_intensity_g_per_kwh=-1)


def test_profile_axes_fixed_by_the_optimizer_belong_to_the_solver():
    # adamw runs only at batch 512 with its own learning rate: still the same problem as the others
    cases = _cases([
        {"optimizer_label": "adam", "batch_size": 128, "learning_rate": 1e-3, "time_to_target_s": 2.0},
        {"optimizer_label": "sgd", "batch_size": 128, "learning_rate": 1e-2, "time_to_target_s": 4.0},
        {"optimizer_label": "adamw", "batch_size": 512, "learning_rate": 1e-3, "time_to_target_s": 1.0},
    ])
    ratios = analysis.performance_ratios(cases).set_index("optimizer_label")["ratio"]
    assert ratios.to_dict() == {"adam": 2.0, "adamw": 1.0, "sgd": 4.0}
