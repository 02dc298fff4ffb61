"""Reports by workload: the model in every label, leaderboards ranked per workload, FLOP/s in throughput."""

from __future__ import annotations

from harness import schema
from harness.analysis.leaderboard import leaderboard
from harness.analysis.perf_profile import performance_ratios
from harness.analysis.throughput import throughput
from harness.report.markdown import md_table
from harness.report.sections import MARKDOWN_COLUMNS

# (model, optimizer, time to target s, examples/s, achieved FLOP/s, utilization)
SPECS = [("mnist_dense", "adam", 2.0, 100000.0, 4.1e10, 0.08), ("mnist_dense", "sgd", 4.0, 110000.0, 4.5e10, 0.09),
         ("cnn", "adam", 30.0, 5000.0, 8.0e10, 0.16), ("cnn", "sgd", 20.0, 5200.0, 8.3e10, 0.17)]


def _cases():
    rows = []
    for rep in (0, 1):
        for model, opt, ttt, sps, achieved, util in SPECS:
            rows.append({
                "run_id": "r", "case_id": f"{model}-{opt}", "case_label": f"{model}/{opt}", "repeat": rep,
                "status": "ok", "optimizer": opt, "optimizer_label": opt, "schedule_label": "constant",
                "engine": "fast", "device": "cpu", "precision": "float32", "batch_size": 128, "epochs": 3,
                "learning_rate": 0.001, "dataset": "mnist-sample", "strategy": "default", "num_replicas": 1,
                "num_workers": 1, "target_accuracy": 0.9, "test_accuracy": 0.95, "reached_target": True,
                "time_to_target_s": ttt + rep * 0.1, "train_s": ttt + 1, "wall_s": ttt + 2, "compile_s": 0.5,
                "eval_s": 0.1, "samples_per_s": sps, "achieved_flops_per_s": achieved, "flops_utilization": util,
                "model": model, "model_label": model, "model_config": "{}", "profiled": False,
                "epochs_to_target": 2, "steps": 93,
            })
    return schema.frame("cases", rows)


def test_leaderboard_is_grouped_and_ranked_per_workload():
    board = leaderboard(_cases())
    assert list(board["model_label"]) == ["mnist_dense", "mnist_dense", "cnn", "cnn"]
    assert all("mnist_dense" in s or "cnn" in s for s in board["series"])
    ranks = dict(zip(board["series"], board["rank"], strict=True))
    assert ranks["adam / mnist_dense"] == 1 and ranks["sgd / cnn"] == 1  # each workload has its own winner


def test_each_workload_is_a_problem_of_the_profile():
    ratios = performance_ratios(_cases())
    assert ratios["problem"].nunique() == 2
    by = ratios.set_index(["model_label", "solver"])["ratio"]
    assert by[("cnn", "sgd")] == 1.0 and by[("mnist_dense", "adam")] == 1.0
    assert by[("cnn", "adam")] > 1.0


def test_throughput_shows_achieved_flops_and_utilization():
    table = throughput(_cases())
    row = table.set_index("series").loc["adam / cnn"]
    assert row["achieved_flops_per_s_median"] == 8.0e10 and row["flops_utilization_median"] == 0.16
    md = md_table(table, "throughput", MARKDOWN_COLUMNS["throughput"])
    assert "achieved_flops_per_s_median [FLOP/s]" in md and "flops_utilization_median" in md
