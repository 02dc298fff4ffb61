"""The tables behind the plots, against values computed by hand from report_synthetic.SPECS."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness import analysis
from harness.analysis import EnergyFactors
from harness.report import ReportOptions, build_tables
from tests.helpers.report_synthetic import SKIP_REASON


def _row(df: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in where.items():
        mask &= df[k] == v
    assert mask.sum() == 1, (where, df)
    return df[mask].iloc[0]


def test_leaderboard_order_values_intervals_and_ties(tables):
    board = tables["leaderboard"]
    order = list(zip(board["optimizer_label"], board["schedule_label"], strict=True))
    # time to target, median over the ok repeats: momentum/constant 1 s; adam/constant median(2, 4) = 3 s
    # [2, 4]; adam/inverse_power 3.5 s (inside [2, 4]: tied with adam/constant); momentum/inverse_power
    # 6 s; sgd/constant never reached (ranked on accuracy after them); then no ok repeat (no rank).
    assert order[:5] == [
        ("momentum-0.9", "constant"),
        ("adam", "constant"),
        ("adam", "inverse_power"),
        ("momentum-0.9", "inverse_power"),
        ("sgd", "constant"),
    ]
    assert board["rank"].tolist()[:5] == [1, 2, 2, 4, 5] and board["rank"].iloc[5:].isna().all()
    assert board["tied"].tolist()[:5] == [False, True, True, False, False]
    assert set(order[5:]) == {("sgd", "inverse_power"), ("muon", "constant")}
    assert board["series"].is_unique and board["series"].iloc[0] == "momentum-0.9 / constant"
    adam = _row(board, optimizer_label="adam", schedule_label="constant")
    assert adam["repeats"] == 2 and adam["rows"] == 3 and adam["reached"] == 2  # profiled repeat left out
    assert (adam["time_to_target_s_median"], adam["time_to_target_s_min"], adam["time_to_target_s_max"]) == (3, 2, 4)
    # compile 0.5 s + training to target + 0.1 s of evaluation per epoch up to the target epoch
    assert adam["wall_to_target_s_min"] == pytest.approx(0.5 + 2 + 0.2)
    assert adam["wall_to_target_s_max"] == pytest.approx(0.5 + 4 + 0.3)
    assert adam["wall_to_target_s_median"] == pytest.approx((2.7 + 4.8) / 2)
    assert adam["energy_to_target_j_median"] == pytest.approx((20 + 36) / 2)
    assert adam["test_accuracy_median"] == pytest.approx(0.91)
    assert (adam["test_accuracy_min"], adam["test_accuracy_max"]) == (0.90, 0.92)
    assert adam["samples_per_s_median"] == pytest.approx(1100.0)
    assert adam["energy_source"] == "estimated" and adam["interval"] == "min–max over 2 repeats"
    assert _row(board, optimizer_label="sgd", schedule_label="constant")["interval"] == "1 repeat: no interval"
    best = {c: board.loc[board[f"{c}_best"], "optimizer_label"].tolist() for c in
            ("test_accuracy_median", "time_to_target_s_median", "samples_per_s_median")}
    assert best == {"test_accuracy_median": ["momentum-0.9"], "time_to_target_s_median": ["momentum-0.9"],
                    "samples_per_s_median": ["sgd"]}
    assert np.isinf(_row(board, optimizer_label="sgd", schedule_label="constant")["time_to_target_s_median"])


def test_single_repeat_banner(tables):
    notes = tables["notes"]
    (text,) = notes.loc[(notes["section"] == "leaderboard") & (notes["level"] == "warning"), "note"]
    assert "single repeat for 4 of 5 configurations" in text
    assert analysis.single_repeat_warning(tables["leaderboard"][lambda b: b["repeats"] != 1]) == ""


def test_leaderboard_include_profiled(synthetic_dir):
    board = build_tables([synthetic_dir], ReportOptions(include_profiled=True))["leaderboard"]
    adam = _row(board, optimizer_label="adam", schedule_label="constant")
    assert adam["repeats"] == 3
    assert adam["time_to_target_s_median"] == pytest.approx(4.0)  # median(2, 4, 5)


def test_time_to_target_recomputed_from_epochs(synthetic_dir):
    tables = build_tables([synthetic_dir], ReportOptions(target=0.85))
    board = tables["leaderboard"]
    adam = _row(board, optimizer_label="adam", schedule_label="constant")
    assert adam["time_to_target_s_median"] == pytest.approx((1.0 + 2.0) / 2)  # epoch 1 and epoch 2
    sgd = _row(board, optimizer_label="sgd", schedule_label="constant")
    assert sgd["time_to_target_s_median"] == pytest.approx(1.5)  # 0.85 at epoch 3: 3 x 0.5 s
    assert sgd["wall_to_target_s_median"] == pytest.approx(0.5 + 1.5 + 0.3)
    assert sgd["energy_to_target_j_median"] == pytest.approx(15.0)
    assert (board["target_accuracy"].dropna() == 0.85).all()


def test_performance_profile_and_score(tables):
    ratios = tables["profile_ratios"].set_index(["problem", "solver"])["ratio"]
    assert ratios[("constant", "adam")] == pytest.approx(3.0)  # median(2, 4) / 1
    assert ratios[("constant", "momentum-0.9")] == pytest.approx(1.0)
    assert ratios[("inverse_power", "adam")] == pytest.approx(1.0)
    assert ratios[("inverse_power", "momentum-0.9")] == pytest.approx(6.0 / 3.5)
    assert np.isinf(ratios[("constant", "sgd")]) and np.isinf(ratios[("inverse_power", "sgd")])
    assert ("constant", "muon") not in ratios.index  # skipped: did not run, not counted against it
    prof = tables["profile"]

    def rho(opt: str, tau: float) -> float:
        g = prof[(prof["solver"] == opt) & (prof["tau"] <= tau + 1e-12)]
        return float(g.sort_values("tau")["fraction"].iloc[-1])

    assert rho("adam", 1.0) == 0.5 and rho("adam", 2.9) == 0.5 and rho("adam", 3.0) == 1.0
    assert rho("momentum-0.9", 1.0) == 0.5 and rho("momentum-0.9", 6 / 3.5) == 1.0
    assert rho("sgd", 100) == 0.0
    # AlgoPerf score: mean over problems of max(0, 4 - r) / 3
    scores = tables["profile_scores"].set_index("solver")["score"]
    assert scores["adam"] == pytest.approx((1 / 3 + 1) / 2)
    assert scores["momentum-0.9"] == pytest.approx((1 + (4 - 6 / 3.5) / 3) / 2)
    assert scores["sgd"] == 0.0


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
    assert adam3["test_accuracy_median"] == pytest.approx(0.91)
    assert (adam3["test_accuracy_q25"], adam3["test_accuracy_q75"]) == pytest.approx((0.905, 0.915))
    assert adam3["cum_train_s_median"] == pytest.approx((3 + 4) / 2)
    assert adam3["cum_wall_s_median"] == pytest.approx(0.5 + 3.5 + 0.3)
    assert adam3["series"] == "adam / constant"
    lr = tables["learning_rates"]
    assert _row(lr, schedule_label="inverse_power", epoch=3)["learning_rate_in_force_median"] == pytest.approx(0.0005)


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
